"""The customer table: a binary label that is an interaction of a text category and a number.

3,000 rows (by default) with columns ``plan`` (basic, plus or pro), ``tenure`` (months),
``spend`` (per month), ``region`` (north, south, east, west; noise) and ``churn`` (yes/no):
a customer churns when they are on the ``pro`` plan XOR their spend is above the median. No
single column says anything about the label and a linear model is near a coin flip; a
network that combines the plan with the spend gets it right.

Usage: python benchmarks/customers.py OUT.csv [--rows 3000] [--seed 0]
"""

from __future__ import annotations

import argparse

import numpy as np


def customer_table(rows=3000, seed=0):
    """The table as a dict of columns (lists and arrays), ``churn`` last."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(["basic", "plus", "pro"], size=rows)
    tenure = rng.integers(1, 72, size=rows)
    spend = np.round(rng.gamma(4.0, 20.0, size=rows), 2)
    region = rng.choice(["north", "south", "east", "west"], size=rows)
    churn = (plan == "pro") ^ (spend > np.median(spend))
    return {"plan": plan, "tenure": tenure, "spend": spend, "region": region,
            "churn": np.where(churn, "yes", "no")}


def write_csv(path, rows=3000, seed=0):
    """Write :func:`customer_table` to ``path`` as CSV; return ``path``."""
    table = customer_table(rows, seed)
    names = list(table)
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(names) + "\n")
        for values in zip(*table.values()):
            f.write(",".join(str(v) for v in values) + "\n")
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(write_csv(args.out, args.rows, args.seed))


if __name__ == "__main__":
    main()
