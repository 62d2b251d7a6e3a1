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

export function drawPoints(canvas, points, domain, test) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  for (const [x, y, label] of points) {
    const px = (x + domain) / (2 * domain) * w, py = (domain - y) / (2 * domain) * h;
    ctx.beginPath();
    ctx.arc(px, py, 3.5, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${label ? POS : NEG})`;
    ctx.fill();
    ctx.lineWidth = test ? 1.6 : 1;
    ctx.strokeStyle = test ? "#000" : "#fff";
    ctx.stroke();
  }
}

// Line chart of several series [{values: [[x, y]...], colour}], optional log scale.
export function drawChart(canvas, series, { log = false, yMin = null, yMax = null } = {}) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, pad = 4;
  ctx.clearRect(0, 0, w, h);
  const f = (y) => (log ? Math.log10(Math.max(y, 1e-12)) : y);
  const all = series.flatMap((s) => s.values);
  if (!all.length) return;
  let x0 = Math.min(...all.map((p) => p[0])), x1 = Math.max(...all.map((p) => p[0]));
  let lo = yMin ?? Math.min(...all.map((p) => f(p[1])));
  let hi = yMax ?? Math.max(...all.map((p) => f(p[1])));
  if (hi <= lo) hi = lo + 1;
  if (x1 <= x0) x1 = x0 + 1;
  ctx.strokeStyle = "#ccc"; ctx.lineWidth = 1;
  ctx.strokeRect(0.5, 0.5, w - 1, h - 1);
  for (const s of series) {
    ctx.beginPath();
    ctx.strokeStyle = s.colour; ctx.lineWidth = 1.5;
    s.values.forEach(([x, y], i) => {
      const px = pad + (x - x0) / (x1 - x0) * (w - 2 * pad);
      const py = h - pad - (Math.min(Math.max(f(y), lo), hi) - lo) / (hi - lo) * (h - 2 * pad);
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
