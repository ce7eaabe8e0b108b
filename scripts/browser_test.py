#!/usr/bin/env python3
"""Draws a 7 on the page of a running `mnist-serve` in headless Chromium and checks the prediction shown.

Needs Debian's chromium and chromium-driver and Python's selenium. Usage:
    scripts/browser_test.py [--url http://127.0.0.1:8080/] [--screenshot docs/serve.png]
Exits 0 when the page shows 7, 1 otherwise; prints the digit and its probability.
"""
import argparse
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

# A 7 as strokes on the 280×280 canvas, in CSS pixels from its centre: the top bar, then the long diagonal.
SEVEN = [[(-75, -85), (75, -85), (60, -40), (35, 20), (10, 95)]]


def launch():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=900,860", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def draw(driver, canvas, strokes, steps=12):
    """Drags the mouse along each stroke, in small moves so the page sees many pointermove events."""
    for stroke in strokes:
        actions = ActionChains(driver, duration=10)
        x, y = stroke[0]
        actions.move_to_element_with_offset(canvas, x, y).click_and_hold()
        for (start_x, start_y), (end_x, end_y) in zip(stroke, stroke[1:]):
            for step in range(1, steps + 1):
                next_x = round(start_x + (end_x - start_x) * step / steps)
                next_y = round(start_y + (end_y - start_y) * step / steps)
                actions.move_by_offset(next_x - x, next_y - y)
                x, y = next_x, next_y
        actions.release().perform()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080/")
    parser.add_argument("--screenshot", help="save a screenshot of the page with the prediction here")
    parser.add_argument("--expect", default="7", help="the digit the page must show (default 7)")
    arguments = parser.parse_args()

    driver = launch()
    try:
        driver.get(arguments.url)
        canvas = driver.find_element(By.ID, "pad")
        draw(driver, canvas, SEVEN)
        body = driver.find_element(By.TAG_NAME, "body")
        # The answer to the last change: a prediction shown and no request left in flight.
        WebDriverWait(driver, 20).until(lambda _: body.get_attribute("data-state") == "predicted")
        digit = driver.find_element(By.ID, "digit").text
        confidence = driver.find_element(By.ID, "confidence").text
        probabilities = [item.find_element(By.CLASS_NAME, "value").text
                         for item in driver.find_elements(By.CSS_SELECTOR, "#probabilities li")]
        requests = driver.execute_script(
            "return performance.getEntriesByType('resource').filter(e => e.name.endsWith('/predict')).length")
        print(f"page shows {digit} ({confidence}); probabilities 0-9: {' '.join(probabilities)}")
        print(f"{requests} prediction requests while drawing (one in flight at a time)")
        if arguments.screenshot:
            driver.save_screenshot(arguments.screenshot)
            print(f"screenshot saved to {arguments.screenshot}")
        if digit != arguments.expect:
            print(f"FAIL: expected {arguments.expect}", file=sys.stderr)
            return 1
        print("PASS")
        return 0
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
