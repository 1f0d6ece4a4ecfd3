"""Request and response models of the OpenAI-compatible endpoints (``/v1/chat/completions``, ``/v1/models``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from api.schemas import HitModel, MetadataHitModel, Text, TopK


class TextPart(BaseModel):
    """One part of a message's content; parts other than text (images) are ignored."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: Text | None = None


class CompletionMessage(BaseModel):
    """A turn of the conversation, as OpenAI clients send it."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"] = Field(
        ..., description="Who speaks; only user turns are searched (the last one is answered)."
    )
    content: Text | list[TextPart] | None = None

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
    messages: list[CompletionMessage] = Field(
        ...,
        min_length=1,
        max_length=100,
        description="The turns, oldest first; at least one from the user, each user turn holding text.",
        json_schema_extra={"contains": {"type": "object", "properties": {"role": {"const": "user"}}}},
    )
    stream: StrictBool = Field(False, description="Answer as server-sent events of chat.completion.chunk objects.")
    top_k: TopK = Field(5, description="How many sources (an extension; at most QA_MAX_TOP_K).")


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
    """An OpenAI chat completion, with the full hits (and cited document metadata) in ``citations``."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage = Field(default_factory=Usage)
    citations: list[HitModel | MetadataHitModel] = Field(
        ...,
        description=(
            "The numbered sources: [n] is citations[n-1]; the hits, then the asked document metadata "
            'that the text states nowhere (kind "metadata"), as /v1/chat\'s metadata_hits.'
        ),
    )


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
