"""Key-token DPO: float64 reference, gradient direction, empty masks."""

import math

import pytest
import torch

from test_loss import make_batch as krsl_batch

from edit_plugin.core.key_dpo import key_dpo_loss


def make_batch(seed=0, dtype=torch.float64):
    """KRSL's test batch plus the reference model's per-token log-probs."""
    logits_c, labels_c, key_c, logits_r, labels_r, key_r = krsl_batch(seed=seed, dtype=dtype)
    g = torch.Generator().manual_seed(seed + 1000)
    ref_c = -torch.rand(labels_c.shape, generator=g, dtype=dtype) * 3
    ref_r = -torch.rand(labels_r.shape, generator=g, dtype=dtype) * 3
    return logits_c, labels_c, key_c, logits_r, labels_r, key_r, ref_c, ref_r


def reference(logits_c, labels_c, key_c, logits_r, labels_r, key_r, ref_c, ref_r, beta):
    """A plain float64 loop over samples and tokens."""
    def z(logits, labels, key, ref, b):
        total = 0.0
        for t in range(labels.shape[1]):
            if labels[b, t] != -100 and key[b, t]:
                total += float(torch.log_softmax(logits[b, t].double(), -1)[labels[b, t]]) - float(ref[b, t])
        return total

    losses = []
    for b in range(labels_c.shape[0]):
        margin = beta * (z(logits_c, labels_c, key_c, ref_c, b) - z(logits_r, labels_r, key_r, ref_r, b))
        losses.append(-math.log(1 / (1 + math.exp(-margin))))
    return sum(losses) / len(losses)


@pytest.mark.parametrize("beta", [0.1, 0.5])
def test_matches_float64_reference(beta):
    batch = make_batch()
    loss, metrics = key_dpo_loss(*batch, beta=beta)
    assert loss.dtype == torch.float64
    assert float(loss) == pytest.approx(reference(*batch, beta=beta), rel=1e-9)
    assert 0.0 <= metrics["key_dpo/accuracy"] <= 1.0


def test_float32_and_bfloat16_logits():
    batch = make_batch(seed=2)
    expected = reference(*batch, beta=0.1)
    as32 = [x.float() if x.is_floating_point() else x for x in batch]
    assert float(key_dpo_loss(*as32, beta=0.1)[0]) == pytest.approx(expected, rel=1e-5)
    as16 = [x.bfloat16() if i in (0, 3) else x for i, x in enumerate(as32)]
    loss16, _ = key_dpo_loss(*as16, beta=0.1)
    assert loss16.dtype == torch.float32 and math.isfinite(float(loss16))


def test_gradient_raises_chosen_and_lowers_rejected_key_tokens():
    logits_c, labels_c, key_c, logits_r, labels_r, key_r, ref_c, ref_r = make_batch(seed=5)
    logits_c.requires_grad_(True)
    logits_r.requires_grad_(True)
    loss, _ = key_dpo_loss(logits_c, labels_c, key_c, logits_r, labels_r, key_r, ref_c, ref_r, beta=0.1)
    loss.backward()
    for logits, labels, key, sign in ((logits_c, labels_c, key_c, -1), (logits_r, labels_r, key_r, 1)):
        for b, t in zip(*torch.where(key & (labels != -100))):
            # Descending the loss moves the label's logit up (chosen) or down (rejected).
            assert sign * float(logits.grad[b, t, labels[b, t]]) > 0
        outside = ~(key & (labels != -100))
        assert torch.all(logits.grad[outside] == 0)


def test_no_key_tokens_is_log2_and_no_gradient():
    logits_c, labels_c, key_c, logits_r, labels_r, key_r, ref_c, ref_r = make_batch(seed=7)
    logits_c.requires_grad_(True)
    empty = torch.zeros_like(key_c)
    loss, metrics = key_dpo_loss(logits_c, labels_c, empty, logits_r, labels_r, torch.zeros_like(key_r),
                                 ref_c, ref_r, beta=0.1)
    assert float(loss) == pytest.approx(math.log(2))
    loss.backward()
    assert torch.all(logits_c.grad == 0)
    assert metrics["key_dpo/margin"] == 0.0


def test_policy_equal_to_reference_is_log2():
    """At the start of stage 2 (a fresh adapter) the policy is the reference."""
    from edit_plugin.core.stage2 import label_logps

    logits_c, labels_c, key_c, logits_r, labels_r, key_r, _, _ = make_batch(seed=9)
    loss, _ = key_dpo_loss(logits_c, labels_c, key_c, logits_r, labels_r, key_r,
                           label_logps(logits_c, labels_c), label_logps(logits_r, labels_r), beta=0.1)
    assert float(loss) == pytest.approx(math.log(2), abs=1e-12)
