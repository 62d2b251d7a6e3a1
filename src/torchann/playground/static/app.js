// The 3.3 tab: settings, the socket, and everything drawn from the server's frames.
import { applyLang, t } from "./i18n.js";
import { base64Of, bytesOf, download, drawChart, drawMap, drawPoints } from "./draw.js";
import { Race } from "./race.js";

const $ = (id) => document.getElementById(id);
const DEFAULTS = {
  dataset: "xor", noise: 0.3, ratio: 0.8, n: 100, batch: 0, layers: [5], act: "relu",
  features: ["x1", "x2"], opt: "sgd", lr: 0.03, reg: "none", rate: 0.001, seed: 0, speed: 10,
};
const FEATURES = { x1: "x₁", x2: "x₂", x1sq: "x₁²", x2sq: "x₂²", x1x2: "x₁·x₂",
  sinx1: "sin x₁", sinx2: "sin x₂" };
const LRS = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const RATES = [0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1];
const MAX_LAYERS = 6, MAX_NEURONS = 16, MAX_CSV = 1_000_000;

const params = new URLSearchParams(location.search);
const state = {
  lang: params.get("lang") || document.documentElement.dataset.defaultLang || "en",
  tab: params.get("tab") === "race" ? "race" : "classify",
  config: readConfig(params),
  version: 0, running: false, setup: null, frame: null, history: [], autoplay: params.get("autoplay") === "1",
  csv: null,
};
if (!["en", "ko"].includes(state.lang)) state.lang = "en";

function readConfig(p) {
  const cfg = structuredClone(DEFAULTS);
  for (const key of Object.keys(DEFAULTS)) {
    if (!p.has(key)) continue;
    const v = p.get(key);
    if (key === "layers") cfg.layers = v === "" || v === "none" ? [] : v.split(",").map(Number);
    else if (key === "features") cfg.features = v.split(",").filter(Boolean);
    else if (typeof DEFAULTS[key] === "number") cfg[key] = Number(v);
    else cfg[key] = v;
  }
  return cfg;
}

function writeURL() {
  const p = new URLSearchParams();
  const c = state.config;
  for (const key of Object.keys(DEFAULTS)) {
    let v = c[key];
    if (key === "layers") v = v.length ? v.join(",") : "none";
    else if (key === "features") v = v.join(",");
    p.set(key, v);
  }
  p.set("lang", state.lang);
  if (state.tab === "race") p.set("tab", "race");
  for (const [k, v] of race.urlParams()) p.set(k, v);
  history.replaceState(null, "", "?" + p.toString());
}

// ---------------------------------------------------------------- socket

let socket = null;
function connect() {
  socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  socket.onopen = () => { sendConfig(); race.onOpen(); };
  socket.onmessage = (ev) => receive(JSON.parse(ev.data));
  socket.onclose = () => showError(t(state.lang, "disconnected"));
}
function send(obj) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(obj));
}
function sendConfig() {
  state.version += 1;
  if (state.config.dataset === "csv" && state.csv) {
    send({ type: "csv", name: state.csv.name, data: state.csv.data, config: state.config,
      version: state.version });
  } else {
    send({ type: "config", config: state.config, version: state.version });
  }
  writeURL();
}

function receive(msg) {
  if (msg.type === "error") return showError(msg.message);
  if (msg.type && msg.type.startsWith("race")) return race.receive(msg);
  if (msg.type === "setup") {
    if (msg.version < state.version) return;
    hideError();
    state.setup = msg;
    state.history = [];
    $("code").textContent = msg.code;
    $("code-panel").classList.toggle("chapter", msg.chapter);
    buildNetwork();
    if (state.autoplay) { state.autoplay = false; send({ type: "play" }); }
  } else if (msg.type === "frame") {
    if (msg.version < state.version || !state.setup) return;
    state.frame = msg;
    drawFrame(msg);
  } else if (msg.type === "export") {
    download("model.pt", new Blob([bytesOf(msg.pt)], { type: "application/octet-stream" }));
    setTimeout(() => download("model.json", new Blob([msg.json], { type: "application/json" })), 200);
  }
}

function showError(text) {
  const el = $("error");
  el.textContent = text;
  el.hidden = false;
}
function hideError() { $("error").hidden = true; }

// ---------------------------------------------------------------- frames

function drawFrame(f) {
  $("epoch").textContent = f.epoch;
  $("train-loss").textContent = f.train_loss.toFixed(4);
  $("test-loss").textContent = f.test_loss.toFixed(4);
  $("train-acc").textContent = (100 * f.train_acc).toFixed(1) + "%";
  $("test-acc").textContent = (100 * f.test_acc).toFixed(1) + "%";
  state.running = f.running;
  $("play").textContent = t(state.lang, f.running ? "pause" : "play");
  const heat = bytesOf(f.heat);
  const side = Math.round(Math.sqrt(heat.length));
  const hm = $("heatmap");
  drawMap(hm, heat, side);
  drawPoints(hm, state.setup.train, state.setup.domain, false);
  drawPoints(hm, state.setup.test, state.setup.domain, true);
  const out = document.querySelector("#network canvas.output");
  if (out) drawMap(out, heat, side);
  f.neurons.forEach((b64, i) => {
    const c = nodeCanvases[i];
    if (c) drawMap(c, bytesOf(b64), state.setup.grid);
  });
  updateLinks(f.weights);
  const h = state.history;
  if (!h.length || h[h.length - 1][0] !== f.epoch) h.push([f.epoch, f.train_loss, f.test_loss]);
  if (h.length > 2000) h.splice(0, h.length - 2000);
  drawChart($("chart"), [
    { values: h.map((r) => [r[0], r[1]]), colour: "#555" },
    { values: h.map((r) => [r[0], r[2]]), colour: "#d2362a" },
  ], { yMin: 0 });
}

// ---------------------------------------------------------------- the network view

let nodeCanvases = [];
let links = [];

function buildNetwork() {
  const box = $("network");
  const svg = $("links");
  box.querySelectorAll(".node, .layer-ctl").forEach((el) => el.remove());
  svg.innerHTML = "";
  nodeCanvases = [];
  links = [];
  const s = state.setup;
  const columns = [s.features.length, ...s.layers, 1];
  const W = box.clientWidth || 460, H = 330, size = 30, top = 34;
  const centers = columns.map((count, c) => {
    const x = 20 + size / 2 + c * ((W - 40 - size) / Math.max(columns.length - 1, 1));
    const gap = Math.min(size + 8, (H - top - size) / Math.max(count, 1));
    return Array.from({ length: count }, (_, r) => [x, top + size / 2 + r * gap]);
  });
  svg.setAttribute("width", W); svg.setAttribute("height", H);
  box.style.height = H + "px";
  for (let l = 0; l + 1 < columns.length; l++) {
    for (let j = 0; j < columns[l + 1]; j++) {
      for (let i = 0; i < columns[l]; i++) {
        const line = document.createElementNS("http://www.w3.org/2000/svg", "line");
        const [x1, y1] = centers[l][i], [x2, y2] = centers[l + 1][j];
        line.setAttribute("x1", x1); line.setAttribute("y1", y1);
        line.setAttribute("x2", x2); line.setAttribute("y2", y2);
        const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
        line.appendChild(title);
        line.classList.add("link");
        svg.appendChild(line);
        links.push({ line, title, l, i, j });
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
      canvas.title = FEATURES[s.features[r]];
      drawMap(canvas, bytesOf(s.inputs[r]), Math.round(Math.sqrt(bytesOf(s.inputs[r]).length)));
      const label = document.createElement("span");
      label.className = "node feature-label"; label.textContent = FEATURES[s.features[r]];
      label.style.left = x - size / 2 - 4 + "px"; label.style.top = y + size / 2 - 2 + "px";
      box.appendChild(label);
    } else if (c === columns.length - 1) {
      canvas.classList.add("output");
    } else {
      nodeCanvases.push(canvas);
    }
    box.appendChild(canvas);
  }));
  s.layers.forEach((count, l) => {
    const x = centers[l + 1][0][0];
    const ctl = document.createElement("div");
    ctl.className = "layer-ctl";
    ctl.style.left = x - 24 + "px";
    ctl.innerHTML = `<button data-layer="${l}" data-delta="1" class="neuron-add">+</button>` +
      `<button data-layer="${l}" data-delta="-1" class="neuron-remove">&minus;</button>` +
      `<small>${count}</small>`;
    box.appendChild(ctl);
  });
  $("layer-count").textContent = s.layers.length;
}

function updateLinks(weights) {
  let peak = 1e-9;
  for (const m of weights) for (const row of m) for (const w of row) peak = Math.max(peak, Math.abs(w));
  const word = t(state.lang, "weight");
  for (const k of links) {
    const w = weights[k.l][k.j][k.i];
    k.line.setAttribute("stroke-width", (0.4 + 6 * Math.abs(w) / peak).toFixed(2));
    k.line.setAttribute("stroke", w >= 0 ? "#0877bd" : "#f59322");
    k.title.textContent = `${word} ${w.toFixed(4)}`;
  }
}

// ---------------------------------------------------------------- controls

function fillSelect(sel, values, current) {
  const all = values.includes(current) || typeof current !== "number" ? values : [...values, current].sort((a, b) => a - b);
  sel.innerHTML = all.map((v) => `<option value="${v}">${v}</option>`).join("");
  sel.value = String(current);
}

function showControls() {
  const c = state.config;
  $("dataset").value = c.dataset;
  $("noise").value = c.noise; $("noise-out").textContent = c.noise;
  $("ratio").value = c.ratio; $("ratio-out").textContent = Math.round(c.ratio * 100) + "%";
  $("n").value = c.n; $("batch").value = c.batch; $("seed").value = c.seed;
  $("act").value = c.act; $("opt").value = c.opt; $("reg").value = c.reg;
  $("speed").value = String(c.speed);
  fillSelect($("lr"), LRS, c.lr);
  fillSelect($("rate"), RATES, c.rate);
  $("features").innerHTML = Object.entries(FEATURES).map(([k, label]) =>
    `<label class="check"><input type="checkbox" id="feat-${k}" value="${k}"` +
    `${c.features.includes(k) ? " checked" : ""}> ${label}</label>`).join("");
  for (const box of $("features").querySelectorAll("input")) {
    box.addEventListener("change", () => {
      const chosen = [...$("features").querySelectorAll("input:checked")].map((b) => b.value);
      if (!chosen.length) { box.checked = true; return; }
      change({ features: chosen });
    });
  }
}

function change(patch) {
  Object.assign(state.config, patch);
  showControls();
  sendConfig();
}

function wire() {
  const num = (id, key, parse = Number) => $(id).addEventListener("change", () => change({ [key]: parse($(id).value) }));
  $("dataset").addEventListener("change", () => {
    if ($("dataset").value === "csv" && !state.csv) { $("csv-file").click(); showControls(); return; }
    change({ dataset: $("dataset").value });
  });
  $("noise").addEventListener("input", () => { $("noise-out").textContent = $("noise").value; });
  num("noise", "noise"); num("ratio", "ratio"); num("n", "n"); num("batch", "batch");
  num("seed", "seed"); num("lr", "lr"); num("rate", "rate"); num("speed", "speed");
  for (const id of ["act", "opt", "reg"]) $(id).addEventListener("change", () => change({ [id]: $(id).value }));
  $("csv-file").addEventListener("change", async () => {
    const file = $("csv-file").files[0];
    if (!file) return;
    if (file.size > MAX_CSV) return showError(`${file.name}: ${file.size} bytes > ${MAX_CSV}`);
    state.csv = { name: file.name, data: base64Of(await file.arrayBuffer()) };
    change({ dataset: "csv" });
  });
  $("add-layer").addEventListener("click", () => {
    if (state.config.layers.length < MAX_LAYERS) change({ layers: [...state.config.layers, 4] });
  });
  $("remove-layer").addEventListener("click", () => change({ layers: state.config.layers.slice(0, -1) }));
  $("network").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-layer]");
    if (!b) return;
    const layers = [...state.config.layers];
    const l = Number(b.dataset.layer);
    layers[l] = Math.min(MAX_NEURONS, Math.max(1, layers[l] + Number(b.dataset.delta)));
    change({ layers });
  });
  $("play").addEventListener("click", () => send({ type: state.running ? "pause" : "play" }));
  $("step").addEventListener("click", () => send({ type: "step" }));
  $("reset").addEventListener("click", () => send({ type: "reset" }));
  $("export").addEventListener("click", () => send({ type: "export" }));
  $("copy").addEventListener("click", async () => {
    const text = $("code").textContent;
    try { await navigator.clipboard.writeText(text); } catch (e) {
      const r = document.createRange(); r.selectNodeContents($("code"));
      getSelection().removeAllRanges(); getSelection().addRange(r); document.execCommand("copy");
    }
    $("copy").textContent = t(state.lang, "copied");
    setTimeout(() => { $("copy").textContent = t(state.lang, "copy"); }, 1200);
  });
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "ko" ? "en" : "ko";
    relabel();
    writeURL();
  });
  for (const b of document.querySelectorAll("button.tab")) {
    b.addEventListener("click", () => { state.tab = b.dataset.tab; showTab(); writeURL(); });
  }
}

function relabel() {
  applyLang(state.lang);
  $("play").textContent = t(state.lang, state.running ? "pause" : "play");
  race.relabel(state.lang);
  if (state.frame) updateLinks(state.frame.weights);
}

function showTab() {
  for (const b of document.querySelectorAll("button.tab")) b.classList.toggle("active", b.dataset.tab === state.tab);
  $("tab-classify").hidden = state.tab !== "classify";
  $("tab-race").hidden = state.tab !== "race";
}

const race = new Race({ $, send: (m) => send(m), params, lang: () => state.lang,
  showError, writeURL: () => writeURL() });
showControls();
wire();
relabel();
showTab();
connect();
window.playground = { state, send };
