"""The embedded student is a plain float32 HF model with <|im_end|> as eos and
pad; `import edit_plugin` does not import Axolotl."""

import json
import subprocess
import sys


def test_student_tokenizer_ends_turns_with_im_end(chat_tokenizer):
    assert chat_tokenizer.eos_token == "<|im_end|>" and chat_tokenizer.eos_token_id == 2
    assert chat_tokenizer.pad_token == "<|im_end|>" and chat_tokenizer.pad_token_id == 2
    assert chat_tokenizer.chat_template


def test_student_weights_are_plain_float32(student_path):
    from safetensors import safe_open

    config = json.loads((student_path / "config.json").read_text())
    assert "quantization_config" not in config
    assert config["eos_token_id"] == 2 and config["pad_token_id"] == 2
    generation = json.loads((student_path / "generation_config.json").read_text())
    assert generation["eos_token_id"] == 2
    with safe_open(student_path / "model.safetensors", "pt") as weights:
        dtypes = {str(weights.get_slice(name).get_dtype()) for name in weights.keys()}
    assert dtypes == {"F32"}


def test_import_is_cheap_and_plugin_is_lazy():
    code = (
        "import sys, edit_plugin;"
        "print('axolotl' in sys.modules);"
        "print(edit_plugin.EditPlugin.__name__, 'axolotl' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "EditPlugin", "True"]
