"""Estimated cost of an LLM call from its token counts.

Prices are USD per million tokens (prompt, completion), from OpenAI's public price list at the
time of writing; they change, so settings (`llm_price_in`, `llm_price_out`) override them, and a
model not listed here (any local model) has no estimate rather than a guessed one.
"""

from __future__ import annotations

# model name prefix -> (USD per 1M prompt tokens, USD per 1M completion tokens); longest prefix wins
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-3.5-turbo": (0.50, 1.50),
}


def price(model: str, price_in: float = 0.0, price_out: float = 0.0) -> tuple[float, float] | None:
    """(prompt, completion) USD per million tokens, or None when unknown."""
    if price_in or price_out:
        return price_in, price_out
    name = model.lower().rsplit("/", 1)[-1]
    for prefix in sorted(PRICES, key=len, reverse=True):
        if name.startswith(prefix):
            return PRICES[prefix]
    return None


def cost_usd(prompt_tokens: int, completion_tokens: int, per_million: tuple[float, float] | None) -> float | None:
    if per_million is None:
        return None
    return (prompt_tokens * per_million[0] + completion_tokens * per_million[1]) / 1e6
