"""3.1 tour of tensors and autograd, computed live by torch.

Each step prints the line of code, the value torch returned, and one sentence of
explanation. Where the chapter's note is wrong, the explanation says what is right.
"""

from torchann.commands import add_lang

SECTIONS = ("3.1.1", "3.1.2", "3.1.3")


def add_arguments(parser):
    """Add the options of ``torchann tensors``."""
    parser.add_argument("--section", choices=SECTIONS, default=None,
                        help="show one part: 3.1.1 rank and shape, 3.1.2 matrix product, "
                             "3.1.3 autograd (default: all)")
    add_lang(parser, "the explanations")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for the random tensors (default: 0)")
    parser.add_argument("--condensed", action="store_true",
                        help="show only the key steps")


def run(args):
    """Print the tour."""
    from torchann.i18n import language
    from torchann.tensors import format_tour, tour

    steps = tour(args.section, seed=args.seed, condensed=args.condensed)
    print(format_tour(steps, language(args.lang)))
    return 0
