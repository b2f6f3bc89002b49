"""``torch.nn.utils.rnn``'s padding helpers: ``pad_sequence`` stacks sequences of different
lengths into one padded tensor (differentiable: the padding gets no gradient), and
``unpad_sequence`` takes them apart again. Packed sequences are not here: there are no recurrent
layers to feed them to."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tinygrad_cnn._words import a_type
from tinygrad_cnn.tensor import Tensor, cat, full, stack

__all__ = ["pad_sequence", "unpad_sequence"]


def pad_sequence(sequences: Tensor | Iterable[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Sequences of shapes ``(L_i, *)`` padded with ``padding_value`` to the longest, ``L``, and
    stacked: ``(L, B, *)``, or ``(B, L, *)`` with ``batch_first``. ``padding_side="left"`` pads
    before each sequence instead of after. The result has the first sequence's dtype (the others
    are cast to it), as in PyTorch; a tensor as ``sequences`` is read as its rows."""
    seqs = list(sequences.unbind(0)) if isinstance(sequences, Tensor) else list(sequences)
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    if not seqs:
        raise ValueError("pad_sequence: received an empty list of sequences; pass at least one")
    for i, s in enumerate(seqs):
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: sequence {i} is {a_type(s)}, not a Tensor; make it "
                            "one with tinygrad_cnn.tensor(...)")
        if s.ndim == 0:
            raise ValueError(f"pad_sequence: sequence {i} is 0-d; each sequence needs a length "
                             "(its first dim): reshape it to (1,) or stack the scalars instead")
    first = seqs[0]
    rest = tuple(first.shape[1:])
    for i, s in enumerate(seqs):
        if tuple(s.shape[1:]) != rest:
            raise ValueError(f"pad_sequence: sequence {i} has shape {tuple(s.shape)}, but "
                             f"sequence 0 has {tuple(first.shape)}: every sequence must be "
                             f"(length, {', '.join(map(str, rest)) or '...'}) -- only the first "
                             "dim may differ")
        if s.device != first.device:
            raise ValueError(f"pad_sequence: sequence {i} is on {s.device}, sequence 0 on "
                             f"{first.device}; move them to one device")
    longest = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        s = s if s.dtype == first.dtype else s.to(first.dtype)
        short = longest - s.shape[0]
        if short:
            pad = full((short, *rest), padding_value, dtype=first.dtype, device=first.device)
            s = cat([s, pad] if padding_side == "right" else [pad, s])
        padded.append(s)
    return stack(padded, dim=0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False
                   ) -> list[Tensor]:
    """The sequences ``pad_sequence`` stacked (padded after each, its default), cut back to
    their ``lengths`` (a tensor or a list of ints)."""
    if not isinstance(padded_sequences, Tensor):
        raise TypeError(f"unpad_sequence: padded_sequences is {a_type(padded_sequences)}, not a "
                        "Tensor")
    batch = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    ns = [int(n) for n in (lengths.tolist() if isinstance(lengths, Tensor) else lengths)]
    if len(ns) != batch.shape[0]:
        raise ValueError(f"unpad_sequence: {len(ns)} lengths for a batch of {batch.shape[0]} "
                         f"sequences (padded shape {tuple(padded_sequences.shape)}, "
                         f"batch_first={batch_first})")
    for i, n in enumerate(ns):
        if not 0 <= n <= batch.shape[1]:
            raise ValueError(f"unpad_sequence: length {n} of sequence {i} is outside 0.."
                             f"{batch.shape[1]}, the padded length")
    return [batch[i, :n] for i, n in enumerate(ns)]


def __getattr__(name: str) -> Any:
    # (a PyTorch name this module lacks: the error says what to do instead)
    from tinygrad_cnn._missing import no_attribute

    raise no_attribute(__name__, name)
