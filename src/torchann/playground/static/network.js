// The network view of the 3.3 tab: a tile per neuron, a line per weight, and a hover that
// enlarges a neuron's map and shows its bias.
import { t, tf } from "./i18n.js";
import { bytesOf, drawMap } from "./draw.js";

const SVG = "http://www.w3.org/2000/svg";
export const FEATURE_NAMES = { x1: "x₁", x2: "x₂", x1sq: "x₁²", x2sq: "x₂²", x1x2: "x₁·x₂",
  sinx1: "sin x₁", sinx2: "sin x₂" };

export class NetworkView {
  constructor({ box, svg, zoom, lang }) {
    Object.assign(this, { box, svg, zoom, lang });
    this.tiles = []; // hidden neurons: {canvas, l, j}
    this.links = [];
    this.frame = null;
  }

  // Lay out the tiles: their size shrinks with the longest column so that 16 neurons fit.
  build(setup) {
    const { box, svg } = this;
    this.setup = setup;
    this.frame = null; this.zoomed = null; this.zoom.hidden = true; // the old network's
    box.querySelectorAll(".node, .layer-ctl").forEach((el) => el.remove());
    svg.innerHTML = "";
    this.tiles = []; this.links = [];
    const columns = [setup.features.length, ...setup.layers, 1];
    const W = box.clientWidth || 460, H = 340, top = 38, labelW = 44;
    const most = Math.max(...columns);
    const size = Math.max(12, Math.min(30, Math.floor((H - top) / most) - 4));
    const centers = columns.map((count, c) => {
      const x = labelW + size / 2 + c * ((W - labelW - 10 - size) / Math.max(columns.length - 1, 1));
      const gap = Math.min(size + 10, (H - top - size) / Math.max(count - 1, 1));
      return Array.from({ length: count }, (_, r) => [x, top + size / 2 + r * gap]);
    });
    svg.setAttribute("width", W); svg.setAttribute("height", H);
    box.style.height = H + "px";
    for (let l = 0; l + 1 < columns.length; l++) {
      for (let j = 0; j < columns[l + 1]; j++) {
        for (let i = 0; i < columns[l]; i++) {
          const line = document.createElementNS(SVG, "line");
          const [x1, y1] = centers[l][i], [x2, y2] = centers[l + 1][j];
          line.setAttribute("x1", x1); line.setAttribute("y1", y1);
          line.setAttribute("x2", x2); line.setAttribute("y2", y2);
          const title = document.createElementNS(SVG, "title");
          line.appendChild(title);
          line.classList.add("link");
          svg.appendChild(line);
          this.links.push({ line, title, l, i, j });
        }
      }
    }
    centers.forEach((col, c) => col.forEach(([x, y], r) => {
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 32;
      canvas.className = "node";
      canvas.style.left = x - size / 2 + "px"; canvas.style.top = y - size / 2 + "px";
      canvas.style.width = canvas.style.height = size + "px";
      if (c === 0) {
        const name = FEATURE_NAMES[setup.features[r]];
        canvas.title = name;
        const bytes = bytesOf(setup.inputs[r]);
        drawMap(canvas, bytes, Math.round(Math.sqrt(bytes.length)));
        const label = document.createElement("span");
        label.className = "node feature-label"; label.textContent = name;
        label.style.right = W - (x - size / 2) + 4 + "px"; label.style.top = y - 7 + "px";
        box.appendChild(label);
      } else if (c === columns.length - 1) {
        canvas.classList.add("output");
      } else {
        canvas.classList.add("hidden-neuron");
        canvas.dataset.layer = c; canvas.dataset.neuron = r + 1;
        const tile = { canvas, l: c - 1, j: r };
        this.tiles.push(tile);
        canvas.addEventListener("mouseenter", () => this.showZoom(tile));
        canvas.addEventListener("mouseleave", () => { this.zoom.hidden = true; this.zoomed = null; });
      }
      box.appendChild(canvas);
    }));
    setup.layers.forEach((count, l) => {
      const x = centers[l + 1][0][0];
      const ctl = document.createElement("div");
      ctl.className = "layer-ctl";
      ctl.style.left = x - 24 + "px";
      ctl.innerHTML = `<button data-layer="${l}" data-delta="1" class="neuron-add" id="neuron-add-${l + 1}">+</button>` +
        `<button data-layer="${l}" data-delta="-1" class="neuron-remove" id="neuron-remove-${l + 1}">&minus;</button>` +
        `<small></small>`;
      box.appendChild(ctl);
    });
    this.relabel();
  }

  relabel() {
    const lang = this.lang();
    if (!this.setup) return;
    this.box.querySelectorAll(".layer-ctl small").forEach((el, l) => {
      el.textContent = tf(lang, "neurons_n", { n: this.setup.layers[l] });
    });
    if (this.frame) this.draw(this.frame);
  }

  // Paint a frame: the output tile, each neuron's map and the weights.
  draw(frame, paintOutput) {
    this.frame = frame;
    const out = this.box.querySelector("canvas.output");
    if (out && paintOutput) paintOutput(out);
    frame.neurons.forEach((b64, i) => {
      const tile = this.tiles[i];
      if (tile) drawMap(tile.canvas, bytesOf(b64), this.setup.grid);
    });
    let peak = 1e-9;
    for (const m of frame.weights) for (const row of m) for (const w of row) peak = Math.max(peak, Math.abs(w));
    const word = t(this.lang(), "weight");
    for (const k of this.links) {
      const w = frame.weights[k.l][k.j][k.i];
      k.line.setAttribute("stroke-width", (0.4 + 6 * Math.abs(w) / peak).toFixed(2));
      k.line.setAttribute("stroke", w >= 0 ? "#0877bd" : "#f59322");
      k.title.textContent = `${word} ${w.toFixed(4)}`;
    }
    if (this.zoomed) this.showZoom(this.zoomed);
  }

  // The enlarged map of one hidden neuron, with its bias, next to its tile.
  showZoom(tile) {
    this.zoomed = tile;
    const index = this.tiles.indexOf(tile);
    if (!this.frame || index < 0 || index >= this.frame.neurons.length) return;
    const canvas = this.zoom.querySelector("canvas");
    drawMap(canvas, bytesOf(this.frame.neurons[index]), this.setup.grid);
    const bias = this.frame.biases[tile.l][tile.j];
    const lang = this.lang();
    this.zoom.querySelector("p").textContent =
      `${tf(lang, "neuron_hover", { n: tile.j + 1, l: tile.l + 1 })} · ${t(lang, "bias")} ${bias.toFixed(4)}`;
    const left = parseFloat(tile.canvas.style.left), topPx = parseFloat(tile.canvas.style.top);
    this.zoom.style.left = Math.max(0, Math.min(left + 36, this.box.clientWidth - 170)) + "px";
    this.zoom.style.top = topPx + "px";
    this.zoom.hidden = false;
  }
}
