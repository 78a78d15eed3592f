"""KRSL loss: float64 reference, gradient direction, empty masks, threshold."""

import pytest
import torch

from edit_plugin.core.krsl import krsl_loss, response_nll

PAPER_WEIGHTS = {"alpha": 1.0, "beta": 0.025}


def reference(logits_c, labels_c, key_c, logits_r, labels_r, key_r, alpha, beta, threshold=None):
    """Straightforward float64 loop over samples and tokens."""
    def term(logits, labels, key, is_rejected):
        values = []
        for b in range(labels.shape[0]):
            n_resp = int((labels[b] != -100).sum())
            total = 0.0
            for t in range(labels.shape[1]):
                if labels[b, t] == -100 or not key[b, t]:
                    continue
                logp = torch.log_softmax(logits[b, t].double(), dim=-1)[labels[b, t]]
                nll = float(-logp)
                if is_rejected and threshold is not None and nll >= threshold:
                    continue
                total += nll
            values.append(total / max(n_resp, 1))
        return sum(values) / len(values)

    return alpha * term(logits_c, labels_c, key_c, False) - beta * term(logits_r, labels_r, key_r, True)


def make_batch(seed=0, batch=3, length=7, vocab=11, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    logits_c = torch.randn(batch, length, vocab, generator=g, dtype=dtype)
    logits_r = torch.randn(batch, length, vocab, generator=g, dtype=dtype)
    labels_c = torch.randint(0, vocab, (batch, length), generator=g)
    labels_r = torch.randint(0, vocab, (batch, length), generator=g)
    labels_c[:, :2] = -100  # the prompt
    labels_r[:, :2] = -100
    labels_r[0, -1] = -100  # padding
    key_c = torch.rand(batch, length, generator=g) < 0.4
    key_r = torch.rand(batch, length, generator=g) < 0.4
    return logits_c, labels_c, key_c, logits_r, labels_r, key_r


@pytest.mark.parametrize("threshold", [None, 2.5])
def test_matches_float64_reference(threshold):
    batch = make_batch(dtype=torch.float64)
    loss, _ = krsl_loss(*batch, alpha=1.0, beta=0.025, neg_nll_threshold=threshold)
    expected = reference(*batch, alpha=1.0, beta=0.025, threshold=threshold)
    assert loss.dtype == torch.float64
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_float32_within_tolerance_of_float64():
    batch32 = make_batch(seed=3)
    loss, _ = krsl_loss(*batch32, alpha=0.7, beta=0.3)
    assert float(loss) == pytest.approx(reference(*batch32, alpha=0.7, beta=0.3), rel=1e-5)


def test_bfloat16_logits_are_upcast():
    batch = make_batch(seed=4)
    bf16 = (batch[0].bfloat16(), *batch[1:3], batch[3].bfloat16(), *batch[4:])
    loss, _ = krsl_loss(*bf16, **PAPER_WEIGHTS)
    assert loss.dtype == torch.float32
    ref = reference(batch[0].bfloat16().float(), *batch[1:3], batch[3].bfloat16().float(), *batch[4:], 1.0, 0.025)
    assert float(loss) == pytest.approx(ref, rel=1e-5)


def test_empty_masks_give_zero_not_nan_and_keep_the_graph():
    logits_c, labels_c, key_c, logits_r, labels_r, key_r = make_batch()
    logits_c.requires_grad_(True)
    logits_r.requires_grad_(True)
    loss, metrics = krsl_loss(logits_c, labels_c, torch.zeros_like(key_c), logits_r, labels_r,
                              torch.zeros_like(key_r), **PAPER_WEIGHTS)
    assert float(loss) == 0.0
    assert all(v == v for v in metrics.values())  # no NaN
    loss.backward()
    assert logits_c.grad is not None and float(logits_c.grad.abs().sum()) == 0.0


def test_all_prompt_rows_do_not_divide_by_zero():
    logits_c, labels_c, key_c, logits_r, labels_r, key_r = make_batch()
    labels_c[1] = -100
    loss, _ = krsl_loss(logits_c, labels_c, key_c, logits_r, labels_r, key_r, **PAPER_WEIGHTS)
    assert torch.isfinite(loss)


def test_threshold_leaves_out_confident_rejected_tokens():
    batch = make_batch(seed=5)
    no_threshold, m0 = krsl_loss(*batch, **PAPER_WEIGHTS)
    huge, _ = krsl_loss(*batch, neg_nll_threshold=1e9, **PAPER_WEIGHTS)
    tiny, m1 = krsl_loss(*batch, neg_nll_threshold=1e-9, **PAPER_WEIGHTS)
    assert float(huge) == pytest.approx(float(no_threshold))
    # Every rejected token is already past a tiny threshold: only the chosen term is left.
    chosen_only, _ = krsl_loss(*batch, alpha=1.0, beta=0.0)
    assert float(tiny) == pytest.approx(float(chosen_only))
    assert m0["krsl/rejected_active_fraction"] == 1.0 and m1["krsl/rejected_active_fraction"] == 0.0


def test_only_key_tokens_get_gradient():
    logits_c, labels_c, key_c, logits_r, labels_r, key_r = make_batch(seed=6)
    logits_c.requires_grad_(True)
    loss, _ = krsl_loss(logits_c, labels_c, key_c, logits_r, labels_r, key_r, **PAPER_WEIGHTS)
    loss.backward()
    touched = logits_c.grad.abs().sum(-1) > 0
    assert torch.equal(touched, key_c & (labels_c != -100))


def test_sgd_step_raises_chosen_and_lowers_rejected_key_probability():
    torch.manual_seed(0)
    vocab, hidden = 13, 8
    model = torch.nn.Sequential(torch.nn.Embedding(vocab, hidden), torch.nn.Linear(hidden, vocab))
    inputs_c = torch.tensor([[1, 2, 3, 4, 5]])
    inputs_r = torch.tensor([[1, 2, 3, 9, 5]])
    labels_c = torch.tensor([[-100, 3, 4, 5, 6]])
    labels_r = torch.tensor([[-100, 3, 9, 5, 6]])
    key = torch.tensor([[False, False, True, False, False]])

    def key_logprobs():
        with torch.no_grad():
            lc = torch.log_softmax(model(inputs_c), -1)[0, 2, 4]
            lr = torch.log_softmax(model(inputs_r), -1)[0, 2, 9]
        return float(lc), float(lr)

    before_c, before_r = key_logprobs()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    loss, _ = krsl_loss(model(inputs_c), labels_c, key, model(inputs_r), labels_r, key, alpha=1.0, beta=0.5)
    loss.backward()
    optimizer.step()
    after_c, after_r = key_logprobs()
    assert after_c > before_c
    assert after_r < before_r


def test_metrics():
    batch = make_batch(seed=7)
    _, m = krsl_loss(*batch, **PAPER_WEIGHTS)
    assert m["krsl/key_nll_margin"] == pytest.approx(m["krsl/rejected_key_nll"] - m["krsl/chosen_key_nll"])
    assert 0.0 < m["krsl/key_token_fraction"] < 1.0
    assert 0.0 <= m["krsl/chosen_key_accuracy"] <= 1.0


def test_response_nll_is_mean_token_nll_per_sample():
    logits = torch.randn(1, 4, 5, dtype=torch.float64)
    labels = torch.tensor([[-100, 1, 2, 3]])
    expected = -torch.log_softmax(logits[0, 1:], -1)[torch.arange(3), labels[0, 1:]].mean()
    assert float(response_nll(logits, labels)) == pytest.approx(float(expected))


def test_never_makes_a_full_float32_copy_of_half_precision_logits():
    from torch.utils._python_dispatch import TorchDispatchMode

    class LargestFloat32(TorchDispatchMode):
        largest = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in out if isinstance(out, (tuple, list)) else [out]:
                if isinstance(t, torch.Tensor) and t.dtype == torch.float32:
                    LargestFloat32.largest = max(LargestFloat32.largest, t.numel())
            return out

    logits_c, labels_c, key_c, logits_r, labels_r, key_r = make_batch(batch=4, length=32, vocab=64)
    with LargestFloat32():
        krsl_loss(logits_c.bfloat16(), labels_c, key_c, logits_r.bfloat16(), labels_r, key_r, **PAPER_WEIGHTS)
    assert 0 < LargestFloat32.largest < logits_c.numel()
