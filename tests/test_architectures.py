"""Eight architectures (nine students: Llama with two templates), each a tiny
random model with its family's tokenizer and chat template
(tests/tiny_students.py): `edit-cot recipe` on it, the dual-CoT dataset
type's tokenization under the model's own template, key masks checked
against the text-level edit, the collator, the stage-2 forward with the KRSL
loss and one optimizer step with LoRA on the recipe's targets; the recipe's
FSDP layer class resolves in the model."""

from __future__ import annotations

import pytest
import torch
import yaml
from datasets import Dataset
from rapidfuzz.distance import Levenshtein

from edit_plugin.core.columns import IGNORE_INDEX
from edit_plugin.dual_cot.strategy import DualCoTStrategy
from edit_plugin.plugin.collator import DualCoTCollator
from edit_plugin.cli import main
from edit_plugin.recipes import detect
from edit_plugin.stage2_forward import stage2_forward
from edit_plugin.synthetic import TASK_FAMILIES
from tiny_students import FAMILIES, GEMMA3_INSTALL, build_student, gemma3_tokenizer_available

SEQUENCE_LEN = 512


def family_param(name):
    marks = []
    if name == "gemma3" and not gemma3_tokenizer_available():
        marks.append(pytest.mark.skip(reason=f"Gemma-3's real tokenizer: {GEMMA3_INSTALL}"))
    return pytest.param(name, marks=marks, id=name)


@pytest.fixture(scope="module", params=[family_param(name) for name in FAMILIES])
def student(request, tmp_path_factory):
    return build_student(request.param, tmp_path_factory.mktemp(request.param))


@pytest.fixture(scope="module")
def recipe(student, tmp_path_factory):
    """The stage-1 config `edit-cot recipe --lora-mlp` writes for the student
    (validated by Axolotl as it writes it)."""
    out = tmp_path_factory.mktemp(f"recipe-{student.name}")
    assert main(["recipe", str(student), "--out", str(out), "--lora-mlp"]) == 0
    return yaml.safe_load((out / "sft.yml").read_text())


def edge_pairs() -> list[dict]:
    """Pairs where a template boundary is easy to get wrong: a CoT that starts
    with newlines (they merge with a template's "\\n"), one that starts with a
    space, an edit in the CoT's last characters (next to the end-of-turn
    markup), and a wrong CoT that only adds a step at its end."""
    prompt = "Q: What is 17 + 25?\n\nA:"
    return [
        {"prompt": prompt, "chosen": "\n\r17 + 25 = 42.\nTherefore, the answer is 42.",
         "rejected": "\n\r17 + 25 = 32.\nTherefore, the answer is 32."},
        {"prompt": prompt, "chosen": " 17 + 25 = 42. So the answer is 42.",
         "rejected": " 17 + 25 = 43. So the answer is 43."},
        {"prompt": prompt, "chosen": "Let's think step by step.\n17 + 25 = 42, the answer is 42",
         "rejected": "Let's think step by step.\n17 + 25 = 42, the answer is 24"},
        {"prompt": prompt, "chosen": "17 + 25 = 42.",
         "rejected": "17 + 25 = 42.\nThen 42 - 9 = 33."},
    ]


def training_pairs() -> list[dict]:
    pairs = []
    for family in ("multistep_arithmetic", "object_counting", "boolean_expressions", "date_arithmetic"):
        pairs += TASK_FAMILIES[family].generate_pairs(3, seed=7)
    return pairs + edge_pairs()


def load_tokenizer(student):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(student)


def token_spans(tokenizer, ids: list[int]) -> tuple[str, list[tuple[int, int]]]:
    """The decoded text of ``ids`` and each token's character span in it."""
    spans, previous = [], ""
    for end in range(1, len(ids) + 1):
        text = tokenizer.decode(ids[:end], skip_special_tokens=False)
        assert text.startswith(previous), (previous, text)  # decoding is prefix-stable here
        spans.append((len(previous), len(text)))
        previous = text
    return previous, spans


def _slid(text: str, s0: int, s1: int) -> tuple[int, int]:
    """How far an inserted ``text[s0:s1]`` can slide left and right and still
    give the same text (inserting "ab" into "xaby" at 1 or 3 is one edit)."""
    left = 0
    while s0 - left > 0 and text[s0 - left - 1] == text[s1 - left - 1]:
        left += 1
    right = 0
    while s1 + right < len(text) and text[s0 + right] == text[s1 + right]:
        right += 1
    return left, right


def _words(text: str, s0: int, s1: int) -> tuple[int, int]:
    """The span grown to whole words and the space before them: a token may
    carry a changed character's neighbours, and its word's leading space."""
    while s0 > 0 and not text[s0 - 1].isspace():
        s0 -= 1
    if s0 > 0:
        s0 -= 1
    while s1 < len(text) and not text[s1].isspace():
        s1 += 1
    return s0, s1


def differing_spans(a: str, b: str) -> tuple[list[tuple[int, int, bool]], list[tuple[int, int, bool]]]:
    """Where ``a`` and ``b`` differ, per text: (start, end, has differing
    characters) of each edit of a minimal character edit script, widened to
    every place an insertion could equally sit and to whole words (tokens
    and characters need not draw the same script: "0" -> "-20" inserts "-2"
    in characters but replaces " 0" in tokens)."""
    spans_a, spans_b = [], []
    for tag, a0, a1, b0, b1 in Levenshtein.opcodes(a, b):
        if tag == "equal":
            continue
        left, right = _slid(b, b0, b1) if a0 == a1 else _slid(a, a0, a1) if b0 == b1 else (0, 0)
        spans_a.append((*_words(a, a0 - left, a1 + right), a1 > a0))
        spans_b.append((*_words(b, b0 - left, b1 + right), b1 > b0))
    return spans_a, spans_b


def overlaps(span, other) -> bool:
    (s0, s1), (o0, o1) = span, other[:2]
    # An empty differing span (the other side inserted text) sits between two characters.
    return s0 < o1 and o0 < s1 if o0 < o1 else s0 <= o0 <= s1


def decoded_side(tokenizer, ids: list[int], labels: list[int], cot: str) -> dict:
    """One side's response (the labelled tail) decoded, each token's span in
    it, and the CoT as the template rendered it (templates that trim contents
    render the stripped CoT)."""
    n_prompt = next(i for i, label in enumerate(labels) if label != IGNORE_INDEX)
    response, spans = token_spans(tokenizer, ids[n_prompt:])
    rendered = cot if cot in response else cot.strip()
    return {"n_prompt": n_prompt, "ids": ids[n_prompt:], "response": response, "spans": spans,
            "cot": rendered, "start": response.find(rendered)}


def key_problems(tokenizer, side: dict, key_mask: list[int], diff: list[tuple[int, int, bool]],
                 name: str) -> list[str]:
    """Why the key tokens of one side are not the text that differs from the
    other side's CoT (empty when they are)."""
    if side["start"] < 0:
        return [f"{name}: the CoT is not in the decoded response {side['response']!r}"]
    problems = [f"{name}: a prompt token is key"] if any(key_mask[:side["n_prompt"]]) else []
    specials = set(tokenizer.all_special_ids)
    keys = [i for i, flag in enumerate(key_mask[side["n_prompt"]:]) if flag]
    spans = [(s0 - side["start"], s1 - side["start"]) for s0, s1 in side["spans"]]
    cot = side["cot"]
    for i in keys:
        token = tokenizer.decode([side["ids"][i]], skip_special_tokens=False)
        s0, s1 = spans[i]
        if side["ids"][i] in specials:
            problems.append(f"{name}: key token {token!r} is a special token")
        elif s1 <= 0 or s0 >= len(cot):
            problems.append(f"{name}: key token {token!r} is template text, outside the CoT")
        elif not any(overlaps((s0, s1), d) for d in diff):
            problems.append(f"{name}: key token {token!r} at {s0}:{s1} is outside the differing text "
                            f"{[cot[a:b] for a, b, _ in diff]}")
    for d0, d1, has_text in diff:
        if has_text and not any(overlaps(spans[i], (d0, d1)) for i in keys):
            problems.append(f"{name}: the differing text {cot[d0:d1]!r} has no key token")
    return problems


def row_problems(tokenizer, row: dict, pair: dict) -> list[str]:
    chosen = decoded_side(tokenizer, row["input_ids"], row["labels"], pair["chosen"])
    rejected = decoded_side(tokenizer, row["rejected_input_ids"], row["rejected_labels"], pair["rejected"])
    chosen_diff, rejected_diff = differing_spans(chosen["cot"], rejected["cot"])
    return (key_problems(tokenizer, chosen, row["chosen_key_mask"], chosen_diff, "chosen")
            + key_problems(tokenizer, rejected, row["rejected_key_mask"], rejected_diff, "rejected"))


def tokenized(tokenizer, pairs, with_rejected=True):
    strategy = DualCoTStrategy(tokenizer, SEQUENCE_LEN, with_rejected, source="architectures")
    return strategy.wrap_dataset(Dataset.from_list([{k: p[k] for k in ("prompt", "chosen", "rejected")}
                                                    for p in pairs]))


def test_key_tokens_are_the_differing_text_under_the_models_own_template(student):
    tokenizer = load_tokenizer(student)
    assert tokenizer.chat_template
    pairs = training_pairs()
    rows = tokenized(tokenizer, pairs)
    assert len(rows) == len(pairs)  # no row dropped: every template boundary held
    problems = [f"row {i}: {p}" for i, (row, pair) in enumerate(zip(rows, pairs))
                for p in row_problems(tokenizer, row, pair)]
    assert not problems, "\n".join(problems)
    # The check has teeth: masks three tokens late, or on the end-of-turn markup, are caught.
    late = {**rows[0], "chosen_key_mask": [0] * 3 + rows[0]["chosen_key_mask"][:-3]}
    assert row_problems(tokenizer, late, pairs[0])
    on_markup = {**rows[0], "rejected_key_mask": rows[0]["rejected_key_mask"][:-1] + [1]}
    assert row_problems(tokenizer, on_markup, pairs[0])


def test_sft_labels_are_the_rendered_answer(student):
    tokenizer = load_tokenizer(student)
    pairs = training_pairs()
    rows = tokenized(tokenizer, pairs, with_rejected=False)
    assert len(rows) == len(pairs)
    for row, pair in zip(rows, pairs):
        answer = [t for t, label in zip(row["input_ids"], row["labels"]) if label != IGNORE_INDEX]
        prompt = [t for t, label in zip(row["input_ids"], row["labels"]) if label == IGNORE_INDEX]
        assert row["input_ids"] == prompt + answer  # labels are one tail
        text = tokenizer.decode(answer, skip_special_tokens=False)
        assert pair["chosen"].strip() in text
        # The prompt ends where the model starts to write: rendering it with
        # the generation prompt gives exactly those tokens.
        rendered = tokenizer.apply_chat_template([{"role": "user", "content": pair["prompt"]}], tokenize=False,
                                                 add_generation_prompt=True)
        assert prompt == tokenizer(rendered, add_special_tokens=False)["input_ids"]


def test_krsl_step_with_lora_on_the_recipes_targets(student, recipe):
    from accelerate.utils.dataclasses import get_module_class_from_name
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    tokenizer = load_tokenizer(student)
    pad = recipe["special_tokens"]["pad_token"]
    assert pad in tokenizer.get_vocab() and pad != tokenizer.eos_token
    assert pad not in tokenizer.apply_chat_template([{"role": "user", "content": "Q"},
                                                     {"role": "assistant", "content": "A"}], tokenize=False)
    tokenizer.pad_token = pad  # what the recipe's special_tokens does in Axolotl
    model = AutoModelForCausalLM.from_pretrained(student)

    layer = type(model.model.layers[0])
    layer_class = recipe["fsdp_config"]["transformer_layer_cls_to_wrap"]
    assert layer_class == detect.decoder_layer_class(model) == layer.__name__
    assert get_module_class_from_name(model, layer_class) is layer  # how FSDP's auto-wrap finds it

    targets = recipe["lora_target_modules"]
    linear = {name.rsplit(".", 1)[-1] for name, m in model.model.layers[0].named_modules()
              if isinstance(m, torch.nn.Linear)}
    mlp = set(detect.lora_targets(model, include_mlp=True)) - set(detect.lora_targets(model, include_mlp=False))
    assert mlp and mlp < set(targets) <= linear  # --lora-mlp: query/value and the MLP, fused ones included
    if model.config.model_type == "phi3":
        assert {"qkv_proj", "gate_up_proj"} <= set(targets)

    rows = tokenized(tokenizer, training_pairs()[:4])
    batch = DualCoTCollator(tokenizer, pad_to_multiple_of=8)([rows[i] for i in range(4)])
    padding = batch["attention_mask"] == 0
    assert padding.any() and (batch["input_ids"][padding] == tokenizer.pad_token_id).all()

    peft_model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=targets))
    adapted = {name.split(".lora_")[0].rsplit(".", 1)[-1] for name, _ in peft_model.named_parameters()
               if "lora_" in name}
    assert adapted == set(targets)
    trainable = [p for p in peft_model.parameters() if p.requires_grad]
    before = [p.detach().clone() for p in trainable]
    optimizer = torch.optim.AdamW(trainable, lr=1e-2)
    params = {"edit_alpha": 1.0, "edit_beta": 0.025}
    loss, metrics, _ = stage2_forward(peft_model, batch, "krsl", params)
    assert torch.isfinite(loss) and loss > 0
    assert 0 < metrics["krsl/key_token_fraction"] < 0.5
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in trainable)
    optimizer.step()
    assert any(not torch.equal(b, p) for b, p in zip(before, trainable))
    with torch.no_grad():
        after, _, _ = stage2_forward(peft_model, batch, "krsl", params)
    assert torch.isfinite(after) and after != loss
