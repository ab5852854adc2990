"""The Responses request builder: what a config sends, and what it keeps back."""

from __future__ import annotations

import pytest

from playground import request
from playground.assistant import AssistantConfig


@pytest.mark.parametrize("model", ["gpt-4.1", "gpt-4.1-mini", "gpt-4o-mini", "gpt-3.5-turbo", "chatgpt-4o-latest"])
def test_reasoning_effort_is_kept_back_from_a_model_that_does_not_reason(model):
    # Switched from o3 to a non-reasoning model: the effort stays in the config, the API would refuse it.
    config = AssistantConfig(model=model, reasoning_effort="high")
    assert "reasoning" not in request.build(config, input="Hi")
    assert config.reasoning_effort == "high"


@pytest.mark.parametrize("model", ["o3", "gpt-5-mini", "gpt-5.4", "llama3.2:3b", "qwen2.5:7b-instruct"])
def test_reasoning_effort_is_sent_to_reasoning_models_and_to_models_the_app_cannot_know(model):
    body = request.build(AssistantConfig(model=model, reasoning_effort="low"), input="Hi")
    assert body["reasoning"] == {"effort": "low"}


def test_truncation_auto_is_sent_only_when_asked_for():
    from playground import request
    from playground.assistant import AssistantConfig

    assert "truncation" not in request.build(AssistantConfig(), input="hi")
    assert request.build(AssistantConfig(truncation=True), input="hi")["truncation"] == "auto"
    assert AssistantConfig.from_json(AssistantConfig(truncation=True).to_json()).truncation is True
    assert AssistantConfig.from_dict({"name": "old"}).truncation is False  # configs saved before the field
