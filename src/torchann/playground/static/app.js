// The 3.3 tab: settings, the socket, and everything drawn from the server's frames.
import { applyLang, loadMessages, say, t, tf } from "./i18n.js";
import { CLASS_COLOURS, base64Of, bytesOf, download, drawChart, drawColorbar, drawHeat, drawPoints, rgb, ticks } from "./draw.js";
import { FEATURE_NAMES, NetworkView } from "./network.js";
import { Race } from "./race.js";

const $ = (id) => document.getElementById(id);
const DEFAULTS = {
  dataset: "xor", noise: 0.3, ratio: 0.8, n: 100, batch: 0, layers: [5], act: "relu",
  features: ["x1", "x2"], opt: "sgd", lr: 0.03, reg: "none", rate: 0.001, seed: 0, speed: 10,
};
const FEATURES = FEATURE_NAMES;
// Presets with an explanation each (note_<name> in i18n.js).
const PRESETS = {
  chapter: {},
  few: { layers: [1] },
  high_lr: { opt: "adam", lr: 10 },
  spiral: { dataset: "spiral", n: 400, noise: 0.1, layers: [8, 8, 8], act: "tanh", opt: "adam", lr: 0.01 },
};
const LRS = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const RATES = [0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1];
const MAX_LAYERS = 6, MAX_NEURONS = 16, MAX_CSV = 1_000_000;

const params = new URLSearchParams(location.search);
const state = {
  lang: params.get("lang") || document.documentElement.dataset.defaultLang || "en",
  tab: params.get("tab") === "race" ? "race" : "classify",
  config: readConfig(params),
  // version: the settings the server accepted last (their frames are drawn); sent: the
  // latest settings sent; accepted: those settings, to put the controls back after a refusal.
  version: 0, sent: 0, accepted: null,
  running: false, setup: null, frame: null, history: [], autoplay: params.get("autoplay") === "1",
  csv: null, preset: "", errors: [], // the codes of the messages shown, oldest first
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
  if (cfg.dataset === "csv") cfg.dataset = "xor"; // an upload does not survive a reload
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
  state.sent += 1;
  if (state.config.dataset === "csv" && state.csv) {
    send({ type: "csv", name: state.csv.name, data: state.csv.data, config: state.config,
      version: state.sent });
  } else {
    send({ type: "config", config: state.config, version: state.sent });
  }
  writeURL();
}

function receive(msg) {
  if (msg.type === "error") return refused(msg);
  if (msg.type && msg.type.startsWith("race")) return race.receive(msg);
  if (msg.type === "setup") {
    if (msg.version < state.version) return;
    hideError();
    state.version = msg.version;
    state.accepted = msg.config;
    state.setup = msg;
    state.history = [];
    state.frame = null;
    $("code").textContent = msg.code;
    $("code-panel").classList.toggle("chapter", msg.chapter);
    net.build(msg);
    showLegend();
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

// A message from the server: shown in the page's language; a refusal of the latest settings
// puts the controls back to the settings in force.
function refused(msg) {
  state.lastError = msg;
  state.errors.push(msg.code || "text");
  if (state.errors.length > 200) state.errors.shift();
  showError(say(state.lang, msg));
  if (msg.version !== undefined && msg.version === state.sent) {
    state.config = structuredClone(state.accepted || DEFAULTS);
    if (state.config.dataset === "csv" && !state.csv) state.config.dataset = "xor";
    showControls();
    writeURL();
  }
  if (msg.code && msg.code !== "library") $("play").textContent = t(state.lang, "play");
}

function showError(text) {
  const el = $("error");
  el.textContent = text;
  el.hidden = false;
}
function hideError() { $("error").hidden = true; state.lastError = null; }

// ---------------------------------------------------------------- frames

function fixed(v, digits) { return v === null || v === undefined ? "-" : v.toFixed(digits); }
function percent(v) { return v === null || v === undefined ? "-" : (100 * v).toFixed(1) + "%"; }

function drawFrame(f) {
  const s = state.setup;
  $("epoch").textContent = f.epoch;
  $("train-loss").textContent = fixed(f.train_loss, 4);
  $("test-loss").textContent = fixed(f.test_loss, 4);
  $("train-acc").textContent = percent(f.train_acc);
  $("test-acc").textContent = percent(f.test_acc);
  state.running = f.running;
  $("play").textContent = t(state.lang, f.running ? "pause" : "play");
  const heat = bytesOf(f.heat);
  const classes = f.heat_class ? bytesOf(f.heat_class) : null;
  const k = s.classes ? s.classes.length : 2;
  const side = Math.round(Math.sqrt(heat.length));
  const discrete = $("discretize").checked;
  const paint = (canvas) => drawHeat(canvas, heat, classes, k, side, discrete);
  const hm = $("heatmap");
  paint(hm);
  drawPoints(hm, s.train, s.domain, false, s.task);
  if ($("show-test").checked) drawPoints(hm, s.test, s.domain, true, s.task);
  net.draw(f, paint);
  const h = state.history;
  if (f.train_loss !== null && f.test_loss !== null &&
      (!h.length || h[h.length - 1][0] !== f.epoch)) h.push([f.epoch, f.train_loss, f.test_loss]);
  if (h.length > 2000) h.splice(0, h.length - 2000);
  drawChart($("chart"), [
    { values: h.map((r) => [r[0], r[1]]), colour: "#555" },
    { values: h.map((r) => [r[0], r[2]]), colour: "#d2362a" },
  ], { yMin: 0 });
}

// The colour bar's range and name, the heatmap's ticks and the classes' names.
function showLegend() {
  const s = state.setup, lang = state.lang;
  if (!s) return;
  const k = s.classes ? s.classes.length : 2;
  drawColorbar(document.querySelector("#colorbar canvas"), s.task === "multiclass" ? k : 2);
  const names = s.classes || [];
  const named = (i) => s.config.dataset === "csv" ? names[i] :
    tf(lang, s.task === "multiclass" ? "class_n" : "label_n", { name: names[i] });
  let lo = "0", mid = "0.5", hi = "1", name = tf(lang, "colorbar_binary", { name: named(1) });
  if (s.task === "regression") { lo = "-1"; mid = "0"; hi = "+1"; name = t(lang, "colorbar_regression"); }
  if (s.task === "multiclass") { lo = (1 / k).toFixed(2); mid = ((1 + 1 / k) / 2).toFixed(2); name = t(lang, "colorbar_multiclass"); }
  $("cb-lo").textContent = lo; $("cb-mid").textContent = mid; $("cb-hi").textContent = hi;
  $("cb-name").textContent = name;
  const legend = $("class-legend");
  legend.innerHTML = "";
  if (s.task !== "regression") {
    names.forEach((_, i) => {
      const sw = document.createElement("span");
      sw.className = "swatch"; sw.style.background = rgb(CLASS_COLOURS[i % CLASS_COLOURS.length]);
      const label = document.createElement("span");
      label.className = "class-name"; label.textContent = named(i);
      legend.append(sw, " ", label, " ");
    });
  }
  const place = (id, horizontal) => {
    const box = $(id);
    box.innerHTML = "";
    for (const v of ticks(-s.domain, s.domain, 5)) {
      const el = document.createElement("span");
      el.textContent = String(v);
      const f = (v + s.domain) / (2 * s.domain) * 100;
      if (horizontal) el.style.left = f + "%"; else el.style.top = 100 - f + "%";
      box.appendChild(el);
    }
  };
  place("heat-xticks", true);
  place("heat-yticks", false);
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
  $("layer-count").textContent = tf(state.lang, "hidden_layers_n", { n: c.layers.length });
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

function change(patch, preset = "") {
  Object.assign(state.config, patch);
  state.preset = preset;
  $("preset").value = preset;
  $("preset-note").hidden = !preset;
  if (preset) $("preset-note").textContent = t(state.lang, "note_" + preset);
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
    if (file.size > MAX_CSV) return refused({ code: "file_size", values: { name: file.name, size: file.size, most: MAX_CSV } });
    state.csv = { name: file.name, data: base64Of(await file.arrayBuffer()) };
    $("csv-name").textContent = file.name;
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
  $("preset").addEventListener("change", () => {
    const name = $("preset").value;
    if (name) change({ ...structuredClone(DEFAULTS), speed: state.config.speed, ...PRESETS[name] }, name);
  });
  for (const id of ["show-test", "discretize"]) {
    $(id).addEventListener("change", () => { if (state.frame) drawFrame(state.frame); });
  }
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
  $("lang").addEventListener("click", async () => {
    state.lang = state.lang === "ko" ? "en" : "ko";
    relabel(); // the page's own labels at once
    writeURL();
    await loadMessages(state.lang); // then the server's messages in the new language
    relabel();
  });
  for (const b of document.querySelectorAll("button.tab")) {
    b.addEventListener("click", () => { state.tab = b.dataset.tab; showTab(); writeURL(); });
  }
}

function relabel() {
  applyLang(state.lang);
  $("play").textContent = t(state.lang, state.running ? "pause" : "play");
  $("layer-count").textContent = tf(state.lang, "hidden_layers_n", { n: state.config.layers.length });
  if (state.preset) $("preset-note").textContent = t(state.lang, "note_" + state.preset);
  if (state.lastError && !$("error").hidden) $("error").textContent = say(state.lang, state.lastError);
  race.relabel(state.lang);
  showLegend();
  net.relabel();
}

function showTab() {
  for (const b of document.querySelectorAll("button.tab")) b.classList.toggle("active", b.dataset.tab === state.tab);
  $("tab-classify").hidden = state.tab !== "classify";
  $("tab-race").hidden = state.tab !== "race";
}

const race = new Race({ $, send: (m) => send(m), params, lang: () => state.lang,
  showError: (msg) => refused(typeof msg === "string" ? { message: msg } : msg), writeURL: () => writeURL() });
const net = new NetworkView({ box: $("network"), svg: $("links"), zoom: $("neuron-zoom"), lang: () => state.lang });
showControls();
wire();
relabel();
showTab();
window.playground = { state, send, race };
await loadMessages(state.lang); // before the socket, so that its first message is worded
connect();
