"""The colour-cluster band-gap model and the image autoencoder, trained on the stand-in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from servables.bandgap_images import colour_clusters, image_autoencoder, standin_data


@pytest.fixture(scope="module")
def standin(shared_data: Path) -> standin_data.StandIn:
    compounds = standin_data.load_compounds(shared_data / "matminer" / "dielectric_constant.csv")
    return standin_data.generate(compounds, 320, size=16, seed=5)


def test_mean_colour_features_are_cielab():
    white = np.full((1, 4, 4, 3), 255, dtype=np.uint8)
    black = np.zeros((1, 4, 4, 3), dtype=np.uint8)
    yellow = np.zeros((1, 4, 4, 3), dtype=np.uint8)
    yellow[..., :2] = 255
    f = colour_clusters.MeanColour().fit_transform(np.concatenate([white, black, yellow]))
    np.testing.assert_allclose(f[0, :4], [100, 0, 0, 0], atol=0.1)
    np.testing.assert_allclose(f[1, :4], [0, 0, 0, 0], atol=0.1)
    assert f[2, 2] > 90 and f[2, 4] == 0  # strongly yellow (b*), uniform
    with pytest.raises(ValueError, match=r"images must have shape \(n, height, width, 3\).*got \(2, 4\)"):
        colour_clusters.MeanColour().transform(np.zeros((2, 4)))


def test_colour_clusters_predict_band_gaps_from_colour(standin):
    gaps = standin.band_gaps
    train, test = np.arange(240), np.arange(240, 320)
    model = colour_clusters.make_model(12, seed=0).fit(standin.images[train], gaps[train])
    predicted = model.predict(standin.images[test])
    mae = np.abs(predicted - gaps[test]).mean()
    baseline = np.abs(gaps[test] - np.median(gaps[train])).mean()
    assert mae < 0.6 * baseline
    clusters = model.named_steps["clusters"]
    assert clusters.cluster_size_.sum() == 240 and len(clusters.cluster_gap_) == 12
    # dark films (gaps below the visible) and clear ones (above) land in different clusters
    dark = gaps[train] < 1.0
    clear = gaps[train] > 4.0
    features = model.named_steps["colour"].transform(standin.images[train])
    assert not set(clusters.cluster_of(features[dark])) & set(clusters.cluster_of(features[clear]))


def test_autoencoder_shapes_and_a_short_training_lowers_the_error(standin):
    autoencoder, served = image_autoencoder.build(size=16, latent_dim=6)
    assert [tuple(o.shape) for o in served.outputs] == [(None, 16, 16, 3), (None, 6)]
    assert autoencoder.get_layer("latent") is served.get_layer("latent")  # one set of weights
    with pytest.raises(ValueError, match="size must be a multiple of 8"):
        image_autoencoder.build(size=20)
    images = standin.images[:160]
    model, history = image_autoencoder.train(images, latent_dim=6, epochs=8, seed=0)
    assert history["loss"][-1] < 0.6 * history["loss"][0]
    recon, latent = model.predict(images[:10].astype("float32"), verbose=0)
    assert recon.shape == (10, 16, 16, 3) and latent.shape == (10, 6)
    assert recon.min() >= 0 and recon.max() <= 1
    untrained = image_autoencoder.build(size=16, latent_dim=6)[1]
    before = image_autoencoder.reconstruction_error(
        images[:10], untrained.predict(images[:10].astype("float32"), verbose=0)[0]
    )
    assert image_autoencoder.reconstruction_error(images[:10], recon) < 0.7 * before
