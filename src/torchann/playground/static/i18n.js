// Every label of the page in English and Korean. Elements carry data-i18n="key".
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
    network: "신경망", hidden_layers: "개의 은닉층", neurons: "개의 뉴런",
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
  },
};

export function t(lang, key) {
  return (STRINGS[lang] && STRINGS[lang][key]) || STRINGS.en[key] || key;
}

export function applyLang(lang) {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.textContent = t(lang, el.dataset.i18n);
  }
  document.getElementById("lang").textContent = lang === "ko" ? "English (en)" : "한국어 (ko)";
}
