"""Run the whole chapter on built-in data: 3.1 tensors, 3.2 restoration, 3.3 a classifier.

No data files are needed. The demo runs a condensed 3.1 tour; restores the built-in demo
image (a photograph corrupted by weird_function) with the chapter's gradient descent (gd,
20,000 steps) and with conjugate gradient (cg), side by side; trains the chapter's
NeuralNet(2, 5) (SGD, lr 0.03, 2000 epochs), saves it, loads it into a new model and
predicts the point [-1, 1].

Files written to --out: tour.txt, broken.png, restored-gd.npy, restored-cg.npy,
comparison.png, restore-loss.png, data.png, boundary.png, train-loss.png, model.pt,
model.json, summary.json and report.html, one self-contained page with every figure and
number. A short summary is printed.
"""

from __future__ import annotations

from torchann.commands import add_lang

DEFAULT_OUT = "torchann-out/demo"


def add_arguments(parser):
    """Add the options of ``torchann demo``."""
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                        help=f"folder for every output and report.html (default: {DEFAULT_OUT})")
    parser.add_argument("--show", action="store_true",
                        help="also open the figures in windows, as the chapter's plt.show() "
                             "does (default: headless, files only)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for every random part: the tour's tensors, the restoration's "
                             "start, the blobs and the initial weights (default: 0)")
    add_lang(parser, "the summary, tour.txt, report.html and the figures")


def run(args):
    """Run the three sections, write the files and report.html, print a summary."""
    import time

    start = time.perf_counter()
    import matplotlib

    if not args.show:
        matplotlib.use("Agg")
    from torchann.i18n import figure_language, language, localize, tr
    from torchann.io import prepare_out_dir, save_json, save_text
    from torchann.report import render_report
    from torchann.runtime import set_threads

    out = prepare_out_dir(args.out)
    set_threads(1)  # small problems: one thread is fastest and steadiest on a busy CPU
    lang = args.lang = language(args.lang)
    args.figure_lang, font_note = figure_language(lang)
    print(tr("demo.start", lang, seed=args.seed))
    if font_note:
        print(tr("cli.note", lang, message=font_note))
    sections, summary = [], {"seed": args.seed}
    for part in (_tensors_part, _restore_part, _classifier_part):
        part_sections, numbers = part(args, out)
        sections += part_sections
        summary.update(numbers)
    summary["seconds"] = time.perf_counter() - start
    save_json(out / "summary.json", summary)
    page = render_report(tr("demo.title", lang), sections, lang=lang,
                         subtitle=tr("demo.subtitle", lang, seed=args.seed,
                                     seconds=summary["seconds"]),
                         note=localize(font_note, lang) if font_note else "")
    save_text(out / "report.html", page)
    print(tr("demo.wrote", lang, count=len(list(out.iterdir())), out=out,
             report=out / "report.html"))
    print(tr("demo.done", lang, seconds=time.perf_counter() - start))
    if args.show:
        import matplotlib.pyplot as plt

        plt.show()
    return 0


def _image(args, out, name, fig, caption):
    """Save ``fig`` as ``out/name`` and return it as a report image (open with --show)."""
    from torchann.i18n import translate_figure
    from torchann.io import figure_png, save_bytes
    from torchann.report import Image

    png = figure_png(translate_figure(fig, args.figure_lang), close=not args.show)
    save_bytes(out / name, png)
    return Image(caption, png)


# --------------------------------------------------------------------------- 3.1


def _tensors_part(args, out):
    from torchann.i18n import tr
    from torchann.io import save_text
    from torchann.report import Section
    from torchann.tensors import format_tour, tour

    lang = args.lang
    steps = tour(seed=args.seed, condensed=True)
    text = format_tour(steps, lang)
    save_text(out / "tour.txt", text + "\n")
    grad = next(float(s.value) for s in steps if s.code == "w.grad")
    view_error = next(s.value for s in steps if s.error)
    print(tr("demo.tensors.line", lang, steps=len(steps)))
    print(tr("demo.tensors.view", lang, error=view_error))
    print(tr("demo.tensors.grad", lang, grad=grad))
    section = Section(
        tr("demo.tensors.heading", lang), text=tr("demo.tensors.text", lang),
        numbers=[(tr("demo.tensors.n_steps", lang), len(steps)),
                 (tr("demo.tensors.n_view", lang), view_error),
                 (tr("demo.tensors.n_grad", lang), grad)],
        code=text)
    return [section], {"tensors": {"steps": len(steps), "w_grad": grad}}


# --------------------------------------------------------------------------- 3.2


def _restore_part(args, out):
    import torch

    from torchann import restore as lib
    from torchann.commands._progress import Progress
    from torchann.i18n import tr
    from torchann.io import save_npy
    from torchann.report import Section

    lang = args.lang
    original = lib.demo_image()
    broken = lib.weird_function(torch.from_numpy(original.reshape(-1)).float())
    broken = broken.double().numpy().reshape(original.shape)
    results, restored, psnr = {}, {}, {}
    for method in ("gd", "cg"):
        steps = lib.METHODS[method]["steps"]
        with Progress(steps, 0, "", quiet=True, desc=f"3.2 {method}") as progress:
            results[method] = lib.restore(broken, method=method, seed=args.seed,
                                          callback=progress)
        restored[method] = results[method].x.double().numpy().reshape(original.shape)
        psnr[method] = lib.quality(original, restored[method], ssim=False)["psnr"]

    print(tr("demo.restore.line", lang))
    for method, r in results.items():
        print(tr("demo.restore.method", lang, method=method, steps=r.steps, seconds=r.seconds,
                 distance=r.final_distance, psnr=psnr[method]))
    gd, cg = results["gd"], results["cg"]
    print(tr("demo.restore.faster", lang, ratio=gd.seconds / max(cg.seconds, 1e-9)))

    if args.show:  # figures made once pyplot is loaded are pyplot's, which plt.show() opens
        import matplotlib.pyplot  # noqa: F401
    shown, fig_lang = lib.display_range(original), args.figure_lang
    panels = [(tr("demo.restore.p_broken", fig_lang), broken,
               lib.display_range(broken, stretch=True)),
              *((tr("demo.restore.p_method", fig_lang, method=m, steps=results[m].steps,
                    psnr=psnr[m]), restored[m], shown) for m in ("gd", "cg")),
              (tr("demo.restore.p_original", fig_lang), original, shown)]
    images = [
        _image(args, out, "broken.png", lib.plot_panels(panels[:1]),
               tr("demo.restore.c_broken", lang)),
        _image(args, out, "comparison.png", lib.plot_panels(panels),
               tr("demo.restore.c_comparison", lang)),
        _image(args, out, "restore-loss.png",
               lib.plot_losses({m: r.history for m, r in results.items()}),
               tr("demo.restore.c_loss", lang)),
    ]
    for method in ("gd", "cg"):
        save_npy(out / f"restored-{method}.npy", restored[method])
    rows = []
    for method, r in results.items():
        rows += [(tr(f"demo.restore.n_{name}", lang, method=method), value) for name, value in
                 (("steps", r.steps), ("seconds", r.seconds),
                  ("distance", r.final_distance), ("psnr", psnr[method]))]
    section = Section(tr("demo.restore.heading", lang), text=tr("demo.restore.text", lang),
                      numbers=rows, images=images)
    numbers = {"restore": {m: {"steps": r.steps, "seconds": r.seconds,
                               "final_distance": r.final_distance,
                               "relative_residual": r.relative_residual, "psnr": psnr[m]}
                           for m, r in results.items()}}
    return [section], numbers


# --------------------------------------------------------------------------- 3.3


def _classifier_part(args, out):
    import math

    from torchann import classify as clf
    from torchann.classify.experiment import Experiment
    from torchann.classify.files import load_model, save_model
    from torchann.commands._progress import Progress
    from torchann.i18n import tr
    from torchann.report import Section

    lang = args.lang
    # the experiment of 'torchann train --seed N': the chapter's blobs, NeuralNet(2, 5), SGD
    experiment, first = Experiment(seed=args.seed, threads=1).load(), {}
    data = experiment.data
    with Progress(2000, 0, "", what="epoch", quiet=True, desc="3.3 training") as progress:
        experiment.train(callback=progress, on_start=lambda model: first.update(
            before=clf.evaluate(model, data.x_test, data.y_test)))
    result = experiment.evaluate()
    model, history, before = result.model, result.history, first["before"]
    after = clf.Evaluation(result.metrics["test_loss_after"], result.test["accuracy"],
                           result.test["confusion"])
    save_model(out / "model.pt", model, data.info)  # what 'torchann train' says of the blobs
    new_model = load_model(out / "model.pt").model  # a new NeuralNet(2, 5), in eval mode
    p = float(clf.predict_proba(new_model, [[-1.0, 1.0]])[0])

    print(tr("demo.classify.line", lang, seconds=history.seconds))
    print(tr("demo.classify.loss", lang, before=before.loss, after=after.loss,
             acc_before=before.accuracy, acc_after=after.accuracy))
    print(tr("demo.classify.reload", lang, p=p))

    images = [_image(args, out, name, result.figures[figure], tr(f"demo.classify.c_{key}", lang))
              for name, figure, key in (("data.png", "data.png", "data"),
                                        ("boundary.png", "boundary.png", "boundary"),
                                        ("train-loss.png", "loss.png", "loss"))]
    c = after.confusion
    numbers = [("loss_before", before.loss), ("loss_after", after.loss),
               ("acc_before", f"{before.accuracy:.1%}"), ("acc_after", f"{after.accuracy:.1%}"),
               ("confusion", f"{c['tn']}, {c['fp']}, {c['fn']}, {c['tp']}"),
               ("seconds", history.seconds), ("p", p)]
    sections = [
        Section(tr("demo.classify.heading", lang), text=tr("demo.classify.text", lang),
                images=images),
        Section(tr("demo.classify.heading_loss", lang),
                text=tr("demo.classify.text_loss", lang, ln2=math.log(2)),
                numbers=[(tr(f"demo.classify.n_{k}", lang), v) for k, v in numbers]),
    ]
    numbers = {"classifier": {"test_loss_before": before.loss, "test_loss_after": after.loss,
                              "test_accuracy_before": before.accuracy,
                              "test_accuracy_after": after.accuracy,
                              "confusion": after.confusion, "seconds": history.seconds,
                              "p_minus1_1": p}}
    return sections, numbers
