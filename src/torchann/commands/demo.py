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


def run(args):
    """Run the three sections, write the files and report.html, print a summary."""
    import time

    start = time.perf_counter()
    import matplotlib

    if not args.show:
        matplotlib.use("Agg")
    from torchann.io import prepare_out_dir, save_json, save_text
    from torchann.report import render_report
    from torchann.runtime import set_threads

    out = prepare_out_dir(args.out)
    set_threads(1)  # small problems: one thread is fastest and steadiest on a busy CPU
    print(f"torchann demo: chapter 3 on built-in data (seed {args.seed})")
    sections, summary = [], {"seed": args.seed}
    for part in (_tensors_part, _restore_part, _classifier_part):
        part_sections, numbers = part(args, out)
        sections += part_sections
        summary.update(numbers)
    summary["seconds"] = time.perf_counter() - start
    save_json(out / "summary.json", summary)
    page = render_report("torchann demo: chapter 3, ANN with PyTorch", sections,
                         subtitle=f"torchann demo --seed {args.seed}, "
                                  f"{summary['seconds']:.1f} s")
    save_text(out / "report.html", page)
    print(f"Wrote {len(list(out.iterdir()))} files to {out}; open {out / 'report.html'}")
    print(f"Done in {time.perf_counter() - start:.1f} s; to change the network and watch it "
          "train live, run 'torchann playground'")
    if args.show:
        import matplotlib.pyplot as plt

        plt.show()
    return 0


def _image(out, name, fig, caption, show):
    """Save ``fig`` as ``out/name`` and return it as a report image (open with --show)."""
    from torchann.io import figure_png, save_bytes
    from torchann.report import Image

    png = figure_png(fig, close=not show)
    save_bytes(out / name, png)
    return Image(caption, png)


# --------------------------------------------------------------------------- 3.1


def _tensors_part(args, out):
    from torchann.io import save_text
    from torchann.report import Section
    from torchann.tensors import format_tour, tour

    steps = tour(seed=args.seed, condensed=True)
    text = format_tour(steps)
    save_text(out / "tour.txt", text + "\n")
    grad = next(float(s.value) for s in steps if s.code == "w.grad")
    view_error = next(s.value for s in steps if s.error)
    print(f"3.1 tensors and autograd: {len(steps)} key steps of the tour (tour.txt)")
    print(f"    x.view(2, 4) on 9 elements fails: {view_error}")
    print(f"    autograd: l = (3w)^2, dl/dw at w = 1 is {grad:g}")
    section = Section(
        "3.1 Tensors and autograd",
        text="The condensed tour, computed live by torch ('torchann tensors' shows all of it). "
             "A scalar has rank 0, a vector rank 1, a matrix rank 2.",
        numbers=[("key steps", len(steps)), ("x.view(2, 4) on 9 elements", view_error),
                 ("w.grad for l = (3w)², w = 1", grad)],
        code=text)
    return [section], {"tensors": {"steps": len(steps), "w_grad": grad}}


# --------------------------------------------------------------------------- 3.2


def _restore_part(args, out):
    import torch

    from torchann import restore as lib
    from torchann.commands._progress import Progress
    from torchann.io import save_npy
    from torchann.report import Section

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

    print("3.2 restoring the demo image (camera photograph, 100x100, corrupted by "
          "weird_function)")
    for method, r in results.items():
        print(f"    {method}: {r.steps:>5} steps in {r.seconds:5.2f} s, distance "
              f"{r.final_distance:.3g}, PSNR {psnr[method]:.1f} dB against the original")
    gd, cg = results["gd"], results["cg"]
    print(f"    cg is {gd.seconds / max(cg.seconds, 1e-9):.0f}x faster than the chapter's gd "
          "and closer to the original")

    show = args.show
    if show:  # figures made once pyplot is loaded are pyplot's, which plt.show() opens
        import matplotlib.pyplot  # noqa: F401
    shown = lib.display_range(original)
    panels = [("broken", broken, lib.display_range(broken, stretch=True)),
              (f"gd, {gd.steps} steps: PSNR {psnr['gd']:.1f} dB", restored["gd"], shown),
              (f"cg, {cg.steps} steps: PSNR {psnr['cg']:.1f} dB", restored["cg"], shown),
              ("original", original, shown)]
    images = [
        _image(out, "broken.png", lib.plot_panels(panels[:1]), "The broken image: "
               "weird_function(original), shown as a 100x100 picture", show),
        _image(out, "comparison.png", lib.plot_panels(panels),
               "broken | gd (the chapter's method) | cg | original, PSNR against the original",
               show),
        _image(out, "restore-loss.png",
               lib.plot_losses({m: r.history for m, r in results.items()}),
               "Distance ||weird_function(x) - broken|| per step", show),
    ]
    for method in ("gd", "cg"):
        save_npy(out / f"restored-{method}.npy", restored[method])
    rows = []
    for method, r in results.items():
        rows += [(f"{method}: steps", r.steps), (f"{method}: seconds", r.seconds),
                 (f"{method}: distance ||f(x) - y||", r.final_distance),
                 (f"{method}: PSNR (dB)", psnr[method])]
    section = Section(
        "3.2 Restoring an image with gradient descent",
        text="The demo photograph was corrupted by the chapter's weird_function. Gradient "
             "descent (gd) is the chapter's method: from random noise, x <- x - 0.8 * grad of "
             "the distance ||weird_function(x) - broken||, 20,000 steps. Conjugate gradient "
             "(cg) solves the same least-squares problem, using the function only through "
             "calls and autograd.",
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
    from torchann.report import Section

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

    print("3.3 first neural network: NeuralNet(2, 5), BCELoss, SGD lr 0.03, 2000 epochs, "
          f"{history.seconds:.1f} s")
    print(f"    test loss {before.loss:.4f} -> {after.loss:.4f} (a loss is not an error rate); "
          f"test accuracy {before.accuracy:.0%} -> {after.accuracy:.0%}")
    print(f"    saved model.pt, loaded it into a new NeuralNet(2, 5): "
          f"P(label = 1 | [-1, 1]) = {p:.4f}")

    show = args.show
    images = [
        _image(out, "data.png", result.figures["data.png"],
               "The data: four blobs in an XOR layout, 80 training and 20 test points", show),
        _image(out, "boundary.png", result.figures["boundary.png"],
               "Decision boundary after training (black line: P = 0.5)", show),
        _image(out, "train-loss.png", result.figures["loss.png"],
               "Training and test loss per epoch", show),
    ]
    c = after.confusion
    sections = [
        Section("3.3 A first neural network",
                text="NeuralNet(2, 5): linear_1, ReLU (max(0, x): a positive input passes "
                     "through), linear_2, Sigmoid. Trained with BCELoss and SGD (lr 0.03) for "
                     "2000 full-batch epochs, as in the chapter.",
                images=images),
        Section("3.3 Test loss and accuracy, before and after training",
                text=f"An untrained classifier sits near ln 2 = {math.log(2):.4f}: a loss is not "
                     "an error rate, so accuracy is reported on its own.",
                numbers=[("test loss before", before.loss), ("test loss after", after.loss),
                         ("test accuracy before", f"{before.accuracy:.1%}"),
                         ("test accuracy after", f"{after.accuracy:.1%}"),
                         ("confusion after (tn, fp, fn, tp)",
                          f"{c['tn']}, {c['fp']}, {c['fn']}, {c['tp']}"),
                         ("training time (s)", history.seconds),
                         ("P(label = 1 | [-1, 1]), reloaded model", p)]),
    ]
    numbers = {"classifier": {"test_loss_before": before.loss, "test_loss_after": after.loss,
                              "test_accuracy_before": before.accuracy,
                              "test_accuracy_after": after.accuracy,
                              "confusion": after.confusion, "seconds": history.seconds,
                              "p_minus1_1": p}}
    return sections, numbers
