import pytest
import torch

from botwatch.model.likelihood import gaussian_log_prob, kl_divergence
from botwatch.model.rvae import RVAE

CARDINALITIES = [3, 5]


def _model(variational=True):
    torch.manual_seed(0)
    return RVAE(
        n_numeric=4,
        cardinalities=CARDINALITIES,
        hidden_size=8,
        latent_dim=3,
        variational=variational,
    )


def _batch(b=5, t=6):
    generator = torch.Generator().manual_seed(1)
    numeric = torch.randn(b, t, 4, generator=generator)
    codes = torch.stack(
        [torch.randint(0, k, (b, t), generator=generator) for k in CARDINALITIES], -1
    )
    lengths = torch.tensor([6, 6, 4, 1, 3])
    mask = (torch.arange(t)[None, :] < lengths[:, None]).float()
    return numeric, codes, lengths, mask


def test_rvae_shapes():
    model = _model()
    numeric, codes, lengths, _ = _batch()
    mu, logvar = model.encode(numeric, codes, lengths)
    assert mu.shape == (5, 3)
    assert logvar.shape == (5, 3)
    mean, out_logvar, logits = model.decode(mu, 6)
    assert mean.shape == (5, 6, 4)
    assert out_logvar.shape == (5, 6, 4)
    assert [tuple(x.shape) for x in logits] == [(5, 6, 3), (5, 6, 5)]
    scores = model.score(numeric, codes, lengths, 3, torch.Generator().manual_seed(0))
    assert scores.shape == (5, 6)


def test_rvae_padding_does_not_change_real_flows():
    model = _model()
    numeric, codes, lengths, mask = _batch()
    changed = numeric.clone()
    changed[mask == 0] = 99.0
    first = model.score(numeric, codes, lengths, 2, torch.Generator().manual_seed(0))
    second = model.score(changed, codes, lengths, 2, torch.Generator().manual_seed(0))
    torch.testing.assert_close(first[mask == 1], second[mask == 1])


def test_rvae_elbo_ignores_padding():
    model = _model()
    numeric, codes, lengths, mask = _batch()
    changed = numeric.clone()
    changed[mask == 0] = -50.0
    a = model.elbo(numeric, codes, lengths, mask, 1.0, torch.Generator().manual_seed(0))
    b = model.elbo(changed, codes, lengths, mask, 1.0, torch.Generator().manual_seed(0))
    torch.testing.assert_close(a[0], b[0])


def test_rvae_training_step_lowers_loss():
    model = _model()
    numeric, codes, lengths, mask = _batch()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        elbo, _, _ = model.elbo(numeric, codes, lengths, mask, 1.0)
        loss = -elbo
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 1.0


def test_rvae_deterministic_variant_has_no_kl():
    model = _model(variational=False)
    numeric, codes, lengths, mask = _batch()
    _, _, kl = model.elbo(numeric, codes, lengths, mask, 1.0)
    assert float(kl) == 0.0
    first = model.score(numeric, codes, lengths, 5)
    second = model.score(numeric, codes, lengths, 5)
    torch.testing.assert_close(first, second)


def test_gaussian_log_prob_standard_normal_at_zero():
    value = gaussian_log_prob(
        torch.zeros(1, 1, 2), torch.zeros(1, 1, 2), torch.zeros(1, 1, 2)
    )
    assert float(value) == pytest.approx(-torch.log(torch.tensor(2 * torch.pi)).item())


def test_kl_divergence_zero_for_prior():
    assert float(kl_divergence(torch.zeros(1, 4), torch.zeros(1, 4))) == 0.0
    assert float(kl_divergence(torch.ones(1, 4), torch.zeros(1, 4))) == pytest.approx(
        2.0
    )
