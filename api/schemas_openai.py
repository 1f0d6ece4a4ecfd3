"""Request and response models of the OpenAI-compatible endpoints (``/v1/chat/completions``, ``/v1/models``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import HitModel


class TextPart(BaseModel):
    """One part of a message's content; parts other than text (images) are ignored."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class CompletionMessage(BaseModel):
    """A turn of the conversation, as OpenAI clients send it."""

    model_config = ConfigDict(extra="allow")

    role: str = Field(..., description="system, developer, user, assistant or tool; only user turns are searched.")
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        """The message's text (text parts joined)."""
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class CompletionRequest(BaseModel):
    """An OpenAI chat completion request; sampling options (temperature, max_tokens ...) are accepted and ignored."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [{"model": "chuchu", "messages": [{"role": "user", "content": "U创空间2017年的产值是多少？"}]}]
        },
    )

    model: str = Field(..., description="The served index's model id (see GET /v1/models).")
    messages: list[CompletionMessage] = Field(..., min_length=1, max_length=100)
    stream: bool = Field(False, description="Answer as server-sent events of chat.completion.chunk objects.")
    top_k: int = Field(5, ge=1, description="How many sources (an extension; at most QA_MAX_TOP_K).")


class AssistantMessage(BaseModel):
    """The reply: the extractive answer with [n] markers, then the numbered sources."""

    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    """The one choice of a completion."""

    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    """Token counts: nothing is generated, so always zero."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletion(BaseModel):
    """An OpenAI chat completion, with the full hits in ``citations``."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage = Field(default_factory=Usage)
    citations: list[HitModel] = Field(..., description="The numbered sources: [n] is citations[n-1].")


class ModelCard(BaseModel):
    """A model id: one per served index."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "chuchu"


class ModelList(BaseModel):
    """The models this server answers as."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


class OpenAIErrorBody(BaseModel):
    """The error of the OpenAI shape."""

    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    """``{"error": {"message", "type", "param", "code"}}``, as OpenAI clients expect it."""

    error: OpenAIErrorBody
