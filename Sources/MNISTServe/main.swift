print("mnist-serve")
