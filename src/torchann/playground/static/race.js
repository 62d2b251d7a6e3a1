// The 3.2 tab: two solvers restoring the broken image side by side.
import { t } from "./i18n.js";
import { base64Of, bytesOf, drawChart } from "./draw.js";

const DEFAULTS = { a_method: "gd", a_lr: 0.8, b_method: "cg", b_lr: 0.01, steps: 20000, speed: 20 };
const URL_KEYS = { a_method: "ra", a_lr: "ralr", b_method: "rb", b_lr: "rblr", steps: "rsteps", speed: "rspeed" };
const COLOURS = ["#f59322", "#0877bd"];

export class Race {
  constructor({ $, send, params, lang, showError, writeURL }) {
    Object.assign(this, { $, send, lang, showError, writeURL });
    this.config = { ...DEFAULTS };
    for (const [key, short] of Object.entries(URL_KEYS)) {
      if (params.has(short)) {
        const v = params.get(short);
        this.config[key] = typeof DEFAULTS[key] === "number" ? Number(v) : v;
      }
    }
    this.running = false;
    this.history = [[], []];
    this.setup = null;
    this.upload = null;
    this.wire();
    this.show();
  }

  urlParams() {
    return Object.entries(URL_KEYS).filter(([k]) => this.config[k] !== DEFAULTS[k])
      .map(([k, short]) => [short, this.config[k]]);
  }

  onOpen() { this.sendConfig(); }

  sendConfig() {
    if (this.upload) {
      this.send({ type: "race_upload", name: this.upload.name, data: this.upload.data, config: this.config });
    } else {
      this.send({ type: "race_config", config: this.config });
    }
    this.writeURL();
  }

  show() {
    const $ = this.$, c = this.config;
    for (const lane of ["a", "b"]) {
      $(`race-${lane}-method`).value = c[`${lane}_method`];
      $(`race-${lane}-lr`).value = c[`${lane}_lr`];
      $(`race-${lane}-lr`).disabled = c[`${lane}_method`] === "cg";
    }
    $("race-steps").value = c.steps;
    $("race-speed").value = String(c.speed);
  }

  wire() {
    const $ = this.$;
    const set = (patch) => { Object.assign(this.config, patch); this.show(); this.sendConfig(); };
    for (const lane of ["a", "b"]) {
      $(`race-${lane}-method`).addEventListener("change", (e) => {
        const method = e.target.value;
        const lr = method === "gd" ? 0.8 : method === "adam" ? 0.01 : this.config[`${lane}_lr`];
        set({ [`${lane}_method`]: method, [`${lane}_lr`]: lr });
      });
      $(`race-${lane}-lr`).addEventListener("change", (e) => set({ [`${lane}_lr`]: Number(e.target.value) }));
    }
    $("race-steps").addEventListener("change", (e) => set({ steps: Number(e.target.value) }));
    $("race-speed").addEventListener("change", (e) => set({ speed: Number(e.target.value) }));
    $("race-play").addEventListener("click", () => this.send({ type: this.running ? "race_pause" : "race_play" }));
    $("race-reset").addEventListener("click", () => this.send({ type: "race_reset" }));
    $("race-file").addEventListener("change", async () => {
      const file = $("race-file").files[0];
      if (!file) return;
      if (file.size > 4_000_000) return this.showError({ code: "file_size", values: { name: file.name, size: file.size, most: 4000000 } });
      this.upload = { name: file.name, data: base64Of(await file.arrayBuffer()) };
      this.sendConfig();
    });
  }

  relabel(lang) {
    const $ = this.$;
    $("race-play").textContent = t(lang, this.running ? "pause" : "play");
    if (this.setup) {
      $("race-source").textContent = this.setup.source === "demo" ? t(lang, "demo_image") : this.setup.source;
      $("race-ref-caption").textContent = t(lang, this.setup.reference_kind === "exact" ? "exact" : "original");
    }
    if (this.frame) this.drawFrame(this.frame);
  }

  receive(msg) {
    if (msg.type === "race_setup") {
      this.setup = msg;
      this.history = [[], []];
      this.frame = null; // the last run's frame must not come back into the new charts
      this.paint("race-broken", msg.broken);
      this.paint("race-ref", msg.reference);
      this.relabel(this.lang());
    } else if (msg.type === "race_frame" && this.setup) {
      this.drawFrame(msg);
    }
  }

  paint(id, b64) {
    const canvas = this.$(id), { width, height } = this.setup;
    canvas.width = width; canvas.height = height;
    const bytes = bytesOf(b64);
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(width, height);
    for (let i = 0; i < width * height; i++) {
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = bytes[i];
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  // The charts' legends: each lane's colour and method.
  legend() {
    for (const el of document.querySelectorAll(".race-legend")) {
      el.replaceChildren(...["a", "b"].flatMap((lane, k) => {
        const line = document.createElement("span");
        line.className = "line"; line.style.background = COLOURS[k];
        return [line, ` ${this.config[lane + "_method"]} `];
      }));
    }
  }

  drawFrame(f) {
    const $ = this.$, lang = this.lang();
    this.legend();
    this.frame = f;
    this.running = f.running;
    $("race-play").textContent = t(lang, f.running ? "pause" : "play");
    f.lanes.forEach((lane, k) => {
      const id = ["a", "b"][k];
      this.paint(`race-${id}-img`, lane.image);
      $(`race-${id}-step`).textContent = lane.step + (lane.done ? ` (${t(lang, "done")})` : "");
      $(`race-${id}-dist`).textContent = lane.distance === null ? "NaN" : lane.distance.toExponential(3);
      $(`race-${id}-psnr`).textContent = lane.psnr === null ? "-" : lane.psnr.toFixed(1);
      const h = this.history[k];
      if (!h.length || h[h.length - 1][0] !== lane.step) h.push([lane.step, lane.distance, lane.psnr]);
    });
    drawChart($("race-psnr-chart"), this.history.map((h, k) => ({
      values: h.filter((r) => r[2] !== null).map((r) => [r[0], r[2]]), colour: COLOURS[k] })));
    drawChart($("race-dist-chart"), this.history.map((h, k) => ({
      values: h.filter((r) => r[1] !== null && r[1] > 0).map((r) => [r[0], r[1]]), colour: COLOURS[k] })), { log: true });
  }
}
