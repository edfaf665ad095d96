"""model.encoder.fusion: a dict of modalities merged by concatenation or by per-example attention."""

from __future__ import annotations

import pytest
import torch
import yaml

from qmtl.cli import main
from qmtl.config import EncoderConfig, validate_config
from qmtl.encoders import AngleEncoder, AttentionFusionEncoder, make_angle_encoder
from qmtl.errors import UserError
from qmtl.rundir import RunDir
from qmtl.training import Trainer

DIMS = {"noise": 8, "signal": 8}


def _encoder(fusion: str, hidden: list[int] | None = None, seed: int = 0) -> AngleEncoder:
    torch.manual_seed(seed)
    return make_angle_encoder(DIMS, 4, EncoderConfig(hidden=[16] if hidden is None else hidden, fusion=fusion), scale=torch.pi)


def _batch(n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    return {name: torch.randn(n, width, generator=generator) for name, width in DIMS.items()}


def test_attention_weights_are_a_per_example_distribution_over_the_modalities():
    encoder = _encoder("attention")
    assert isinstance(encoder, AttentionFusionEncoder) and encoder.modalities == ["noise", "signal"]
    x = _batch(6, torch.Generator().manual_seed(0))
    assert torch.equal(encoder.modality_weights(x), torch.full((6, 2), 0.5))  # zero-initialised scorers
    with torch.no_grad():
        for parameter in encoder.scorers.parameters():
            parameter.normal_()
    weights = encoder.modality_weights(x)
    assert weights.shape == (6, 2) and torch.all(weights > 0)
    assert torch.allclose(weights.sum(dim=1), torch.ones(6))
    assert not torch.allclose(weights[0], weights[1])  # per example
    # the angles are scale * tanh(merge(sum_m alpha_m h_m))
    parts = [encoder.branches[name](x[name]) for name in encoder.modalities]
    fused = weights[:, :1] * parts[0] + weights[:, 1:] * parts[1]
    assert torch.allclose(encoder(x), torch.pi * torch.tanh(encoder.merge(fused)), atol=1e-6)
    maps = encoder.attention_maps(x)["modality_attention"]["encoder"]
    assert list(maps) == ["noise", "signal"] and abs(sum(maps.values()) - 1) < 1e-6


@pytest.mark.parametrize("hidden", [[16], [], [12, 6]])
def test_concat_is_the_concatenation_it_always_was(hidden):
    encoder = _encoder("concat", hidden)
    assert type(encoder) is AngleEncoder and not hasattr(encoder, "attention_maps")
    width = hidden[-1] if hidden else 4
    assert encoder.merge[1].in_features == 2 * width
    x = _batch(5, torch.Generator().manual_seed(1))
    parts = torch.cat([encoder.branches[name](x[name]) for name in ("noise", "signal")], dim=-1)
    assert torch.equal(encoder(x), torch.pi * torch.tanh(encoder.merge[1](torch.tanh(parts))))
    # the default config is concat, and one seed builds the same encoder as the explicit choice
    assert EncoderConfig().fusion == "concat"
    torch.manual_seed(0)
    default = make_angle_encoder(DIMS, 4, EncoderConfig(hidden=hidden), scale=torch.pi)
    assert all(torch.equal(a, b) for a, b in zip(default.state_dict().values(), _encoder("concat", hidden).state_dict().values()))


def test_attention_over_one_tensor_is_refused():
    with pytest.raises(UserError, match="fusion: attention weighs modalities against each other, but the data "
                                        "give one feature tensor"):
        make_angle_encoder(64, 4, EncoderConfig(fusion="attention"), scale=1.0)
    with pytest.raises(UserError, match="but the data give one modality"):
        make_angle_encoder({"only": 3}, 4, EncoderConfig(fusion="attention"), scale=1.0)


def test_a_noise_modality_gets_less_weight_than_an_informative_one():
    """Labels depend on the signal modality only; after a short training the attention puts
    most of its weight there, on examples it has not seen."""
    generator = torch.Generator().manual_seed(0)
    direction = torch.randn(DIMS["signal"], generator=generator)
    train, test = _batch(512, generator), _batch(256, generator)
    labels = (train["signal"] @ direction > 0).float()
    encoder = _encoder("attention", seed=0)
    head = torch.nn.Linear(4, 1)
    optimizer = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=0.02)
    for _step in range(150):
        index = torch.randint(0, 512, (64,), generator=generator)
        batch = {name: value[index] for name, value in train.items()}
        loss = torch.nn.functional.binary_cross_entropy_with_logits(head(encoder(batch)).squeeze(-1), labels[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        weights = encoder.modality_weights(test).mean(dim=0)
        predicted = head(encoder(test)).squeeze(-1) > 0
        accuracy = (predicted == (test["signal"] @ direction > 0)).float().mean()
    noise, signal = weights.tolist()
    assert accuracy > 0.8  # it learned the task
    assert signal > 0.6 > 0.4 > noise, (signal, noise)


def _multimodal(tiny_config, fusion):
    tiny_config["data"] = {"name": "digits", "limit": 120, "options": {"modalities": True}}
    tiny_config["model"]["encoder"]["fusion"] = fusion
    tiny_config["training"].update(epochs=2, conflict_diagnostic=False)
    return tiny_config


@pytest.mark.parametrize("architecture", ["hard_sharing", "task_attention", "qmoe", "classical"])
def test_the_run_records_the_modality_weights_per_epoch(tiny_config, tmp_path, architecture):
    raw = _multimodal(tiny_config, "attention")
    raw["model"]["architecture"] = architecture
    Trainer(validate_config(raw), RunDir(tmp_path / "run"), progress=False).run()
    records = RunDir(tmp_path / "run").read_metrics()
    assert len(records) == 2
    for record in records:
        weights = record["attention"]["modality_attention"]["encoder"]
        assert set(weights) == {"left", "right"} and abs(sum(weights.values()) - 1) < 1e-5
        assert ("task_attention" in record["attention"]) == (architecture == "task_attention")


def test_concat_on_modalities_records_no_attention(tiny_config, tmp_path):
    Trainer(validate_config(_multimodal(tiny_config, "concat")), RunDir(tmp_path / "run"), progress=False).run()
    assert all(r["attention"] is None for r in RunDir(tmp_path / "run").read_metrics())


@pytest.mark.parametrize(("fusion", "message"), [
    ("attention", "model.encoder.fusion: attention weighs modalities against each other, but the data give one "
                  "feature tensor"),
    ("sum", "config key 'model.encoder.fusion' = 'sum'"),
])
def test_bad_fusion_exits_2_with_one_line_and_writes_nothing(tiny_config, tmp_path, capsys, fusion, message):
    tiny_config["model"]["encoder"]["fusion"] = fusion
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(tiny_config))
    out = tmp_path / "run"
    assert main(["train", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("qmtl: error: ") and message in err, err
    assert not out.exists()
