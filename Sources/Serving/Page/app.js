// The drawing page: strokes on a black canvas in white, as MNIST's digits are; after each change the canvas
// is sent as a PNG to POST /predict, one request in flight at a time (a change made meanwhile is sent when
// the answer arrives), and the digit, the ten probabilities and the 28×28 input the model saw are shown.
"use strict";

const pad = document.getElementById("pad");
const context = pad.getContext("2d");
const inputView = document.getElementById("input").getContext("2d");
const digitOutput = document.getElementById("digit");
const confidence = document.getElementById("confidence");
const statusLine = document.getElementById("status");
const list = document.getElementById("probabilities");

/** The stroke width in canvas pixels: about MNIST's stroke for a digit filling the canvas. */
const strokeWidth = 20;

let drawing = false;
let hasInk = false;
let lastPoint = null;
let requestInFlight = false;
let changedSinceRequest = false;
/** Bumped by Clear, so an answer to a request sent before it is ignored. */
let generation = 0;

const rows = [];
for (let digit = 0; digit < 10; digit += 1) {
  const item = document.createElement("li");
  item.innerHTML = `<span class="label">${digit}</span><span class="bar"><span class="fill"></span></span><span class="value">–</span>`;
  list.appendChild(item);
  rows.push({ item, fill: item.querySelector(".fill"), value: item.querySelector(".value") });
}

function resetCanvas() {
  context.fillStyle = "#000";
  context.fillRect(0, 0, pad.width, pad.height);
  context.strokeStyle = "#fff";
  context.fillStyle = "#fff";
  context.lineWidth = strokeWidth;
  context.lineCap = "round";
  context.lineJoin = "round";
}

function showNothing(message) {
  digitOutput.textContent = "–";
  confidence.textContent = "";
  statusLine.textContent = message;
  document.body.dataset.state = "empty";
  for (const row of rows) {
    row.fill.style.width = "0";
    row.value.textContent = "–";
    row.item.classList.remove("best");
    row.item.removeAttribute("aria-label");
  }
  inputView.fillStyle = "#000";
  inputView.fillRect(0, 0, 28, 28);
}

function percent(probability) {
  return `${(probability * 100).toFixed(1)}%`;
}

function showPrediction(result) {
  digitOutput.textContent = String(result.digit);
  confidence.textContent = percent(result.probabilities[result.digit]);
  const models = result.models || [];
  statusLine.textContent =
    models.length > 1
      ? `The ensemble of ${models.length} models (${models.join(", ")}) reads a ${result.digit}.`
      : `The model reads a ${result.digit}.`;
  result.probabilities.forEach((probability, digit) => {
    const row = rows[digit];
    row.fill.style.width = `${(probability * 100).toFixed(1)}%`;
    row.value.textContent = percent(probability);
    row.item.classList.toggle("best", digit === result.digit);
    row.item.setAttribute("aria-label", `${digit}: ${percent(probability)}`);
  });
  const image = inputView.createImageData(28, 28);
  result.input.forEach((level, index) => {
    image.data.set([level, level, level, 255], index * 4);
  });
  inputView.putImageData(image, 0, 0);
  document.body.dataset.state = "predicted";
}

/** The point of a pointer event in canvas pixels. */
function pointOf(event) {
  const bounds = pad.getBoundingClientRect();
  return {
    x: ((event.clientX - bounds.left) * pad.width) / bounds.width,
    y: ((event.clientY - bounds.top) * pad.height) / bounds.height,
  };
}

function drawTo(point) {
  context.beginPath();
  if (lastPoint) {
    context.moveTo(lastPoint.x, lastPoint.y);
    context.lineTo(point.x, point.y);
    context.stroke();
  } else {
    context.arc(point.x, point.y, strokeWidth / 2, 0, 2 * Math.PI);
    context.fill();
  }
  lastPoint = point;
  hasInk = true;
  changedSinceRequest = true;
}

/** Sends the canvas unless a request is already in flight; then it is sent when that one is answered. */
function requestPrediction() {
  if (requestInFlight || !changedSinceRequest || !hasInk) return;
  requestInFlight = true;
  changedSinceRequest = false;
  const sentGeneration = generation;
  document.body.dataset.state = "pending";
  pad.toBlob(async (blob) => {
    try {
      const response = await fetch("/predict", { method: "POST", headers: { "Content-Type": "image/png" }, body: blob });
      const result = await response.json();
      if (sentGeneration !== generation) return;
      if (response.ok) {
        showPrediction(result);
      } else {
        showNothing(result.error || `The server answered ${response.status}.`);
      }
    } catch (error) {
      if (sentGeneration === generation) showNothing(`No answer from the server: ${error.message}`);
    } finally {
      requestInFlight = false;
      requestPrediction();
    }
  }, "image/png");
}

pad.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  drawing = true;
  lastPoint = null;
  drawTo(pointOf(event));
  requestPrediction();
});

pad.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  event.preventDefault();
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  for (const each of events.length > 0 ? events : [event]) drawTo(pointOf(each));
  requestPrediction();
});

function endStroke() {
  if (!drawing) return;
  drawing = false;
  lastPoint = null;
  requestPrediction();
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);

document.getElementById("clear").addEventListener("click", () => {
  generation += 1;
  hasInk = false;
  changedSinceRequest = false;
  resetCanvas();
  showNothing("Draw a digit to start.");
});

resetCanvas();
showNothing("Draw a digit to start.");
