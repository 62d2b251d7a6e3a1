// The page's own labels in English and Korean (elements carry data-i18n="key"): strings of the
// page, not of the server, whose messages come from the message catalogue (loadMessages below).
export const STRINGS = {
  en: {
    tab_classify: "3.3 A first neural network",
    tab_race: "3.2 The restoration race",
    play: "Play", pause: "Pause", step: "Step", reset: "Reset",
    epoch: "Epoch", train_loss: "Train loss", test_loss: "Test loss",
    train_acc: "Train accuracy", test_acc: "Test accuracy",
    data: "Data", dataset: "Dataset",
    ds_xor: "XOR blobs (the chapter's)", ds_circle: "Circle", ds_gauss: "Gaussians",
    ds_spiral: "Spiral", ds_csv: "My CSV",
    csv_file: "CSV file (x1,x2,label)", noise: "Noise", ratio: "Training share",
    points: "Points", batch: "Batch size (0: all)", seed: "Seed", features: "Features",
    network: "Network", hidden_layers: "hidden layers", neurons: "neurons",
    activation: "Activation", optimizer: "Optimizer", lr: "Learning rate",
    reg: "Regularization", none: "none", rate: "Rate", speed: "Epochs per frame",
    output: "Output", label0: "label 0", label1: "label 1", test_ring: "(ringed: test points)",
    code: "PyTorch code of this network", copy: "Copy", copied: "Copied",
    export: "Export model.pt + model.json",
    code_note: "This is the program the server is running: paste it into Python and it trains the same network to the same loss.",
    chapter_shape: "This is the chapter's NeuralNet: model.pt loads with NeuralNet(2, hidden).load_state_dict(torch.load('model.pt')).",
    image: "Broken image", broken: "Broken", original: "Original", exact: "Exact solution",
    race_intro: "The image was corrupted by the chapter's weird_function. Both solvers only call that function and differentiate it; they start from the same broken signal.",
    steps: "Steps", distance: "distance", max_steps: "Most steps", race_speed: "Steps per frame",
    psnr_chart: "PSNR (dB) by step", dist_chart: "Distance ||f(x) - y|| by step (log scale)",
    race_why: "gd takes a fixed-size step along the gradient of the distance ||f(x) − y||, whose length does not shrink near the answer, so it ends up bouncing at a floor set by the learning rate; cg solves the same linear least-squares problem along conjugate directions and reaches the answer to float precision in a few hundred steps.",
    done: "done", demo_image: "built-in demo image (camera, 100 x 100)",
    disconnected: "The connection to the playground server was lost; restart 'torchann playground' and reload.",
    weight: "weight", bias: "bias",
    ds_three: "Three classes", ds_plane: "Plane (regression)", ds_mgauss: "Multi-Gaussian (regression)",
    class_n: "class {name}", label_n: "label {name}", value_low: "-1", value_high: "+1",
    colorbar_binary: "probability of {name}", colorbar_regression: "predicted value",
    colorbar_multiclass: "the winning class's probability",
    hidden_layers_n: "{n} hidden layer(s)", neurons_n: "{n} neuron(s)",
    show_test: "Show test data", discretize: "Discretize output",
    neuron_hover: "neuron {n} of layer {l}",
    preset: "Preset", preset_custom: "(your own settings)",
    preset_chapter: "The chapter's network", preset_few: "Too few neurons",
    preset_high_lr: "Too high a learning rate", preset_spiral: "A spiral needs depth",
    note_chapter: "Section 3.3.2's network: XOR blobs, one hidden layer of 5 ReLU neurons, SGD at 0.03, BCELoss. Press play: the test loss falls below 0.1 within about 2000 epochs.",
    note_few: "One hidden neuron draws one straight line, and XOR needs two: the test accuracy stays near 50-75% however long it trains. Add neurons with + and watch the boundary bend.",
    note_high_lr: "Adam with a learning rate of 10: each step overshoots, the outputs saturate at 0 or 1, and the loss sticks far above a blind guess's. The page stops training and says why. Choose 0.01 and press reset.",
    note_spiral: "Two interleaved spirals (400 points): three layers of 8 tanh neurons with Adam reach about 98% test accuracy in 300 epochs. With − until one layer is left, it is still far from that after 1000 epochs.",
    intro_title: "What this page shows",
    intro: "Section 3.3.1 describes an artificial neural network: layers of neurons, each a weighted sum of its inputs passed through an activation function. Section 3.3.2 trains a simple one: two features x₁, x₂, a hidden layer of ReLU neurons, a sigmoid output, BCELoss and SGD. The defaults below are that network. Each square is a neuron's output over the plane; lines are weights (blue positive, orange negative, thicker larger); the big picture is the network's answer, with the points it learns from. Change anything and the code below changes with it.",
    acc_na: "-", choose_file: "Choose a file…",
  },
  ko: {
    tab_classify: "3.3 첫 신경망",
    tab_race: "3.2 이미지 복원 경주",
    play: "재생", pause: "일시정지", step: "한 단계", reset: "초기화",
    epoch: "이폭", train_loss: "학습 오차", test_loss: "테스트 오차",
    train_acc: "학습 정확도", test_acc: "테스트 정확도",
    data: "데이터", dataset: "데이터셋",
    ds_xor: "XOR 덩어리 (책의 데이터)", ds_circle: "원", ds_gauss: "가우시안",
    ds_spiral: "나선", ds_csv: "내 CSV",
    csv_file: "CSV 파일 (x1,x2,레이블)", noise: "노이즈", ratio: "학습 데이터 비율",
    points: "점 개수", batch: "배치 크기 (0: 전체)", seed: "시드", features: "입력 특징",
    network: "신경망", hidden_layers: "은닉층", neurons: "뉴런",
    activation: "활성화 함수", optimizer: "최적화 알고리즘", lr: "학습률",
    reg: "규제", none: "없음", rate: "규제 비율", speed: "프레임당 이폭",
    output: "출력", label0: "레이블 0", label1: "레이블 1", test_ring: "(테두리: 테스트 데이터)",
    code: "이 신경망의 파이토치 코드", copy: "복사", copied: "복사됨",
    export: "model.pt + model.json 내보내기",
    code_note: "서버가 지금 실행하는 프로그램입니다. 파이썬에 붙여 넣으면 같은 신경망을 같은 오차까지 학습시킵니다.",
    chapter_shape: "책의 NeuralNet입니다. model.pt는 NeuralNet(2, hidden).load_state_dict(torch.load('model.pt'))로 불러옵니다.",
    image: "오염된 이미지", broken: "오염된 이미지", original: "원본", exact: "정확한 해",
    race_intro: "이미지는 책의 weird_function으로 오염되었습니다. 두 방법 모두 그 함수를 호출하고 미분할 뿐이며, 같은 오염된 신호에서 시작합니다.",
    steps: "단계", distance: "거리", max_steps: "최대 단계", race_speed: "프레임당 단계",
    psnr_chart: "단계별 PSNR (dB)", dist_chart: "단계별 거리 ||f(x) - y|| (로그 눈금)",
    race_why: "gd는 거리 ||f(x) − y||의 기울기 방향으로 일정한 크기만큼 움직이는데, 이 기울기의 크기는 답 근처에서도 줄어들지 않아 학습률이 정하는 바닥에서 맴돌게 됩니다. cg는 같은 선형 최소제곱 문제를 켤레 방향을 따라 풀어 수백 단계 만에 부동소수점 정밀도까지 답에 도달합니다.",
    done: "완료", demo_image: "내장 예제 이미지 (카메라, 100 x 100)",
    disconnected: "플레이그라운드 서버와의 연결이 끊겼습니다. 'torchann playground'를 다시 실행하고 새로 고침하세요.",
    weight: "가중치", bias: "편향",
    ds_three: "세 가지 클래스", ds_plane: "평면 (회귀)", ds_mgauss: "여러 가우시안 (회귀)",
    class_n: "클래스 {name}", label_n: "레이블 {name}", value_low: "-1", value_high: "+1",
    colorbar_binary: "{name}일 확률", colorbar_regression: "예측값",
    colorbar_multiclass: "가장 높은 클래스의 확률",
    hidden_layers_n: "은닉층 {n}개", neurons_n: "뉴런 {n}개",
    show_test: "테스트 데이터 보기", discretize: "출력을 0/1로 나누어 보기",
    neuron_hover: "{l}번째 층의 {n}번째 뉴런",
    preset: "예제 설정", preset_custom: "(직접 고른 설정)",
    preset_chapter: "책의 신경망", preset_few: "뉴런이 너무 적을 때",
    preset_high_lr: "학습률이 너무 클 때", preset_spiral: "나선에는 깊이가 필요합니다",
    note_chapter: "3.3.2절의 신경망입니다: XOR 덩어리, ReLU 뉴런 5개짜리 은닉층 1개, 학습률 0.03의 SGD, BCELoss. 재생을 누르면 2000 이폭 안에 테스트 오차가 0.1 아래로 내려갑니다.",
    note_few: "은닉 뉴런 하나는 직선 하나를 긋는데 XOR에는 두 개가 필요합니다. 아무리 오래 학습해도 테스트 정확도가 50~75% 근처에 머뭅니다. +로 뉴런을 더하고 경계가 휘는 것을 보세요.",
    note_high_lr: "학습률 10의 Adam입니다. 매 단계가 최솟값을 지나쳐 출력이 0이나 1로 포화되고, 오차가 아무렇게나 찍을 때보다 훨씬 높은 곳에 머뭅니다. 페이지가 학습을 멈추고 이유를 알려 줍니다. 0.01을 고르고 초기화를 누르세요.",
    note_spiral: "서로 감긴 두 나선(점 400개)입니다. tanh 뉴런 8개짜리 층 3개와 Adam이면 300 이폭 만에 테스트 정확도가 약 98%에 이릅니다. −로 층을 하나만 남기면 1000 이폭이 지나도 그만큼 배우지 못합니다.",
    intro_title: "이 페이지가 보여 주는 것",
    intro: "3.3.1절은 인공 신경망을 설명합니다. 뉴런들이 층을 이루고, 각 뉴런은 입력의 가중합을 활성화 함수에 통과시킵니다. 3.3.2절은 간단한 신경망을 학습시킵니다. 두 특징 x₁, x₂, ReLU 뉴런으로 된 은닉층, 시그모이드 출력, BCELoss와 SGD입니다. 아래의 기본 설정이 바로 그 신경망입니다. 작은 사각형은 평면 위에서 각 뉴런의 출력이고, 선은 가중치입니다(파랑은 양수, 주황은 음수, 굵을수록 큼). 큰 그림은 신경망의 답과 학습에 쓰는 점들입니다. 무엇이든 바꾸면 아래 코드도 함께 바뀝니다.",
    acc_na: "-", choose_file: "파일 고르기…",
  },
};

// The server's messages are not here: they are the message catalogue's playground.<code>
// entries (torchann/locale/*/LC_MESSAGES/torchann.po, the same sentences the CLI and Python
// use), read from /messages/<lang>.json by loadMessages. Only the page's own labels are above.
const CATALOGUES = {};

// Read the catalogue's playground.* messages in lang, once; resolves when they are there (or
// could not be read: say then falls back to the server's English).
export async function loadMessages(lang) {
  if (CATALOGUES[lang]) return;
  try {
    const reply = await fetch(`/messages/${lang}.json`);
    if (reply.ok) CATALOGUES[lang] = await reply.json();
  } catch (e) { /* offline: the English message the server sent is shown */ }
}

export function t(lang, key) {
  return (STRINGS[lang] && STRINGS[lang][key]) || STRINGS.en[key] || key;
}

// One value as Python's format(value, spec) writes it, for the specs the catalogue uses:
// [[fill]align][width][,][.precision][type] with type f, e, g, % or d, rounding half to even
// as Python does (0.125 to two places is 0.12).
const SPEC = /^(?:(.)?([<>^]))?(\d+)?(,)?(?:\.(\d+))?([fegd%])?$/;

// digits rounded half to even to their first `keep` digits (one more on a carry: "99" → "100").
function roundDigits(digits, keep) {
  const head = digits.slice(0, Math.max(keep, 0)), rest = digits.slice(Math.max(keep, 0));
  const odd = head !== "" && Number(head.at(-1)) % 2 === 1;
  if (!(rest[0] > "5" || (rest[0] === "5" && (!/^50*$/.test(rest) || odd)))) return head;
  const out = head.split("");
  let i = out.length - 1;
  for (; i >= 0 && out[i] === "9"; i -= 1) out[i] = "0";
  return i < 0 ? "1" + out.join("") : (out[i] = String(Number(out[i]) + 1), out.join(""));
}

// |v| with `places` digits after the point.
function fixedText(v, places) {
  const a = Math.abs(v);
  const [whole, part = ""] = a < 1e21 ? a.toFixed(100).split(".") : [BigInt(a).toString()];
  const n = roundDigits(whole + part.padEnd(places, "0"), whole.length + places)
    .replace(/^0+/, "").padStart(places + 1, "0");
  return places ? `${n.slice(0, -places)}.${n.slice(-places)}` : n;
}

// |v| as `count` significant digits and the power of ten of the first one.
function significant(v, count) {
  if (v === 0) return ["0".repeat(count), 0];
  const [mantissa, power] = Math.abs(v).toExponential(20).split("e");
  const digits = roundDigits(mantissa.replace(".", "").padEnd(count, "0"), count);
  return [digits.slice(0, count), Number(power) + (digits.length > count ? 1 : 0)];
}

function withExponent(digits, exp) {
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}

function number(v, comma, precision, type) {
  if (type === "%") return number(v * 100, comma, precision ?? 6, "f") + "%";
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  const sign = v < 0 || Object.is(v, -0) ? "-" : "";
  let text;
  if (type === "f") text = fixedText(v, precision ?? 6);
  else if (type === "e") text = withExponent(...significant(v, (precision ?? 6) + 1));
  else if (type === "g") {
    const p = Math.max(precision ?? 6, 1);
    const [digits, exp] = significant(v, p);
    const trimmed = digits.replace(/0+$/, "") || "0";
    if (exp < -4 || exp >= p) text = withExponent(trimmed, exp);
    else if (exp >= 0) {
      const part = trimmed.slice(exp + 1);
      text = trimmed.slice(0, exp + 1).padEnd(exp + 1, "0") + (part ? `.${part}` : "");
    } else text = v === 0 ? "0" : `0.${"0".repeat(-exp - 1)}${trimmed}`;
  } else text = String(type === "d" ? Math.trunc(Math.abs(v)) : Math.abs(v));
  if (comma) {
    const [whole, part] = text.split(".");
    text = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (part === undefined ? "" : `.${part}`);
  }
  return sign + text;
}

function formatted(value, spec) {
  if (!spec) return String(value);
  const m = SPEC.exec(spec);
  if (!m) return String(value);
  const [, fill = " ", align, width, comma, precision, type] = m;
  const numeric = typeof value === "number";
  let text = numeric ? number(value, comma, precision === undefined ? undefined : Number(precision), type)
    : String(value);
  const pad = Math.max(0, Number(width || 0) - text.length);
  const side = align || (numeric ? ">" : "<");
  if (side === ">") text = fill.repeat(pad) + text;
  else if (side === "<") text += fill.repeat(pad);
  else text = fill.repeat(Math.floor(pad / 2)) + text + fill.repeat(pad - Math.floor(pad / 2));
  return text;
}

// A template with {name} or {name:spec} placeholders filled from values, as Python's
// str.format fills the catalogue's templates ({{ and }} are braces).
export function fill(template, values = {}) {
  return template.replace(/\{\{|\}\}|\{(\w+)(?::([^{}]*))?\}/g, (m, k, spec) => {
    if (m === "{{") return "{";
    if (m === "}}") return "}";
    return k in values ? formatted(values[k], spec) : m;
  });
}

// A label with values: tf(lang, "neurons_n", { n: 3 }).
export function tf(lang, key, values) { return fill(t(lang, key), values); }

// The page's label of a setting named in a message (lr: "Learning rate").
const SETTING_LABELS = { act: "activation", opt: "optimizer", n: "points", feature: "features",
  steps: "max_steps" };

// The text of a server message {code, values, message} in the page's language, from the
// catalogue read by loadMessages (the page's own refusals, such as file_size, too).
export function say(lang, msg) {
  const key = "playground." + msg.code;
  const template = (CATALOGUES[lang] || {})[key] ?? (CATALOGUES.en || {})[key];
  if (template === undefined) return String(msg.message || msg.code);
  const values = { ...(msg.values || {}) };
  if (msg.code.startsWith("setting_") && typeof values.name === "string" && lang !== "en") {
    const label = SETTING_LABELS[values.name] || values.name;
    if (STRINGS[lang][label]) values.name = STRINGS[lang][label];
  }
  return fill(template, values);
}

export function applyLang(lang) {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.textContent = t(lang, el.dataset.i18n);
  }
  document.getElementById("lang").textContent = lang === "ko" ? "English (en)" : "한국어 (ko)";
}
