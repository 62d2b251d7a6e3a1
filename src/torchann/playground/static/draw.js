// Drawing helpers: the colour map, heatmaps from bytes, points and line charts.

const NEG = [245, 147, 34];   // label 0, negative
const MID = [232, 234, 235];
const POS = [8, 119, 189];    // label 1, positive

export function colour(byte) {
  const v = byte / 255;
  const [a, b, f] = v < 0.5 ? [NEG, MID, v * 2] : [MID, POS, (v - 0.5) * 2];
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * f));
}

const LUT = Array.from({ length: 256 }, (_, i) => colour(i));
//: Class colours for three or more classes (class 0 and 1 keep the binary colours).
export const CLASS_COLOURS = [NEG, POS, [44, 160, 44], [148, 103, 189], [214, 39, 40], [140, 86, 75]];

export function rgb(c) { return `rgb(${c[0]},${c[1]},${c[2]})`; }

// The colour of one output cell: a byte (probability, value or winning probability), with
// the winning class for multiclass; `discrete` shows only which side or class wins.
export function cellColour(byte, cls, k, discrete) {
  if (cls === undefined) return LUT[discrete ? (byte >= 128 ? 255 : 0) : byte];
  const c = CLASS_COLOURS[cls % CLASS_COLOURS.length];
  const f = discrete ? 1 : Math.max(0, (byte / 255 - 1 / k) / (1 - 1 / k));
  return [0, 1, 2].map((i) => Math.round(MID[i] + (c[i] - MID[i]) * f));
}

// The colour of a data point: its class, or its value (-1..1) for regression.
export function pointColour(label, task) {
  if (task === "regression") return LUT[Math.max(0, Math.min(255, Math.round((label + 1) * 127.5)))];
  return CLASS_COLOURS[Math.round(label) % CLASS_COLOURS.length];
}

// Draw the network's output over the plane: heat bytes (and winning classes) side x side.
export function drawHeat(canvas, heat, classes, k, side, discrete) {
  scratch.width = side; scratch.height = side;
  const sctx = scratch.getContext("2d");
  const img = sctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const c = cellColour(heat[i], classes ? classes[i] : undefined, k, discrete);
    img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2];
    img.data[4 * i + 3] = 255;
  }
  sctx.putImageData(img, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = !discrete;
  ctx.drawImage(scratch, 0, 0, canvas.width, canvas.height);
}

// The colour bar under the heatmap: the map from its low to its high end.
export function drawColorbar(canvas, k) {
  const ctx = canvas.getContext("2d");
  for (let x = 0; x < canvas.width; x++) {
    const f = x / (canvas.width - 1);
    ctx.fillStyle = rgb(k > 2 ? cellColour(Math.round(255 * (1 / k + f * (1 - 1 / k))), 2, k, false)
      : LUT[Math.round(255 * f)]);
    ctx.fillRect(x, 0, 1, canvas.height);
  }
}

export function bytesOf(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function base64Of(buffer) {
  const bytes = new Uint8Array(buffer);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

const scratch = document.createElement("canvas");

// Draw a square map of bytes (side x side) onto canvas, scaled to fill it.
export function drawMap(canvas, bytes, side, grey = false) {
  scratch.width = side; scratch.height = side;
  const sctx = scratch.getContext("2d");
  const img = sctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const c = grey ? [bytes[i], bytes[i], bytes[i]] : LUT[bytes[i]];
    img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2];
    img.data[4 * i + 3] = 255;
  }
  sctx.putImageData(img, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = !grey;
  ctx.drawImage(scratch, 0, 0, canvas.width, canvas.height);
}

export function drawPoints(canvas, points, domain, test, task = "binary") {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  for (const [x, y, label] of points) {
    const px = (x + domain) / (2 * domain) * w, py = (domain - y) / (2 * domain) * h;
    ctx.beginPath();
    ctx.arc(px, py, 3.5, 0, 2 * Math.PI);
    ctx.fillStyle = rgb(pointColour(label, task));
    ctx.fill();
    ctx.lineWidth = test ? 1.6 : 1;
    ctx.strokeStyle = test ? "#000" : "#fff";
    ctx.stroke();
  }
}

// Round tick values from lo to hi (about `count` of them).
export function ticks(lo, hi, count = 4) {
  const raw = (hi - lo) / count, mag = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(6));
  return out;
}

function tickText(v, log) {
  if (log) return "1e" + v;
  return Math.abs(v) >= 1e4 ? v.toExponential(0) : String(+v.toPrecision(3));
}

// Line chart of several series [{values: [[x, y]...], colour}] with axes and ticks,
// optional log scale.
export function drawChart(canvas, series, { log = false, yMin = null, yMax = null } = {}) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  const left = 40, right = 8, top = 6, bottom = 18;
  ctx.clearRect(0, 0, w, h);
  const f = (y) => (log ? Math.log10(Math.max(y, 1e-12)) : y);
  const all = series.flatMap((s) => s.values);
  let x0 = all.length ? Math.min(...all.map((p) => p[0])) : 0;
  let x1 = all.length ? Math.max(...all.map((p) => p[0])) : 1;
  let lo = yMin ?? (all.length ? Math.min(...all.map((p) => f(p[1]))) : 0);
  let hi = yMax ?? (all.length ? Math.max(...all.map((p) => f(p[1]))) : 1);
  if (log) { lo = Math.floor(lo); hi = Math.ceil(hi); }
  if (hi <= lo) hi = lo + 1;
  if (x1 <= x0) x1 = x0 + 1;
  const X = (x) => left + (x - x0) / (x1 - x0) * (w - left - right);
  const Y = (y) => h - bottom - (Math.min(Math.max(y, lo), hi) - lo) / (hi - lo) * (h - top - bottom);
  ctx.strokeStyle = "#999"; ctx.lineWidth = 1; ctx.fillStyle = "#555";
  ctx.font = "10px system-ui, sans-serif";
  ctx.beginPath(); ctx.moveTo(left + 0.5, top); ctx.lineTo(left + 0.5, h - bottom + 0.5);
  ctx.lineTo(w - right, h - bottom + 0.5); ctx.stroke();
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const v of ticks(lo, hi, log ? Math.min(hi - lo, 4) : 4)) {
    ctx.fillText(tickText(v, log), left - 4, Y(v));
    ctx.beginPath(); ctx.moveTo(left - 2, Math.round(Y(v)) + 0.5); ctx.lineTo(left, Math.round(Y(v)) + 0.5); ctx.stroke();
  }
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (const v of ticks(x0, x1, 4)) {
    ctx.fillText(tickText(v, false), X(v), h - bottom + 3);
    ctx.beginPath(); ctx.moveTo(Math.round(X(v)) + 0.5, h - bottom); ctx.lineTo(Math.round(X(v)) + 0.5, h - bottom + 3); ctx.stroke();
  }
  for (const s of series) {
    ctx.beginPath();
    ctx.strokeStyle = s.colour; ctx.lineWidth = 1.5;
    s.values.forEach(([x, y], i) => {
      const px = X(x), py = Y(f(y));
      if (i) ctx.lineTo(px, py); else ctx.moveTo(px, py);
    });
    ctx.stroke();
  }
}

export function download(name, blob) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}
