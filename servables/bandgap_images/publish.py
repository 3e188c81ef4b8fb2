"""Render the band-gap image stand-in, train the three models, and publish them into a hub.

The study of Stein et al., Chem. Sci. 10, 47 (2019) on a labelled STAND-IN (real
Materials Project compositions and band gaps, physics-rendered images and
spectra): the dataset ``bandgap_images_standin`` (one record per image) and the
servables ``bandgap-image-autoencoder`` (Keras), ``bandgap-colour-clusters``
(scikit-learn) and ``bandgap-absorption-onset`` (a Python function), each with
the dataset as its training data and its errors as metrics.

Usage::

    python -m servables.bandgap_images.publish [--hub DIR] [--user NAME] [--data DIR]
        [--images N] [--size PX] [--epochs E] [--seed S]
"""

from __future__ import annotations

import argparse
import json

from .study import publish_study


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hub", default=None, help="hub folder (default $MATTERHUB_HOME or ~/.matterhub)")
    parser.add_argument("--user", default=None)
    parser.add_argument("--data", default=None, help="folder holding matminer/dielectric_constant.csv")
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from hub import Hub

    with Hub(args.hub, user=args.user) as hub:
        out = publish_study(
            hub, args.data, args.images, size=args.size, epochs=args.epochs, seed=args.seed, echo=print
        )
    print(json.dumps(out, indent=1, default=float))


if __name__ == "__main__":
    main()
