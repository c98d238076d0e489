"""Settings: defaults < config file < environment < arguments; validation; no secrets."""

import pytest

from rag.errors import ConfigError
from rag.settings import Settings


def test_precedence_is_defaults_then_file_then_env_then_arguments(tmp_path):
    config = tmp_path / "rag.toml"
    config.write_text("[rag]\ntop_k = 3\nchunk_size = 300\ncandidates = 12\n")
    env = {"RAG_TOP_K": "5", "RAG_CHUNK_SIZE": "250"}
    s = Settings.load(env=env, config_file=config, top_k=7)
    assert s.top_k == 7              # argument beats env
    assert s.chunk_size == 250       # env beats file
    assert s.candidates == 12        # file beats default
    assert s.chunk_overlap == Settings().chunk_overlap


@pytest.mark.parametrize("change,needle", [
    ({"top_k": 0}, "k >= 1"),
    ({"chunk_size": 10}, "at least 32"),
    ({"chunk_overlap": 500}, "overlap < chunk_size"),
    ({"fusion": "magic"}, "rrf"),
    ({"mode": "telepathy"}, "extractive"),
    ({"llm_repack": "yes"}, '"on" or "off"'),
    ({"llm_runtime": "cuda"}, '"openvino" or "llama.cpp"'),
])
def test_bad_values_fail_fast_with_the_value_and_the_fix(change, needle):
    with pytest.raises(ConfigError) as err:
        Settings.load(env={}, **change)
    assert needle in str(err.value) and str(list(change.values())[0]) in str(err.value)


def test_bad_env_value_names_the_setting():
    with pytest.raises(ConfigError, match="top_k must be int"):
        Settings.load(env={"RAG_TOP_K": "many"})


def test_unknown_config_key_is_refused(tmp_path):
    config = tmp_path / "rag.toml"
    config.write_text("top_kk = 3\n")
    with pytest.raises(ConfigError, match="top_kk"):
        Settings.load(env={}, config_file=config)


def test_api_key_is_never_part_of_settings(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-123456")
    s = Settings.load(llm_model="m", llm_base_url="http://127.0.0.1:1/v1")
    assert s.llm_configured
    assert "sk-secret" not in repr(s) and "sk-secret" not in str(vars(s))


@pytest.mark.parametrize("name, value", [("sentence_vectors", "both"), ("sentence_weight", "1.5")])
def test_sentence_settings_are_checked(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.load(env={}, **{name: value})


def test_sentences_in_chunk_need_the_local_model():
    with pytest.raises(ConfigError, match="in_chunk"):
        Settings.load(env={}, embed_backend="openai", embed_base_url="http://127.0.0.1:1/v1",
                      sentence_vectors="in_chunk")
