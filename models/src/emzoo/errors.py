"""The closed set of errors emzoo raises for problems a user can act on.

Each carries a hint saying how to fix it; the CLI maps the class to an exit code here, in one place.
"""

from __future__ import annotations


class EmzooError(Exception):
    """Base class. ``hint`` tells the user what to do; ``exit_code`` is the CLI's exit status."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class UnknownName(EmzooError):
    """A preset, task or registry key that does not exist; the message lists the known ones."""

    exit_code = 2

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        super().__init__(
            f"unknown {kind} {name!r}; known: {', '.join(sorted(known))}",
            hint=f"pick one of the listed {kind}s",
        )
        self.kind, self.name, self.known = kind, name, known


class InvalidInput(EmzooError):
    """A shape, file or argument that does not fit (wrong size, dtype, malformed file)."""

    exit_code = 3


class ExportCheckFailed(EmzooError):
    """An exported artefact does not reproduce PyTorch's output within tolerance."""

    exit_code = 4


class MissingDependency(EmzooError):
    """An optional extra (e.g. TensorFlow for convert-tf) is not installed."""

    exit_code = 5


class CheckpointMismatch(InvalidInput):
    """A checkpoint's variables do not fit the network: missing, unexpected or mis-shaped ones.

    The message lists each; ``missing``, ``unexpected`` and ``mismatched`` hold them for callers.
    """

    def __init__(
        self,
        message: str,
        *,
        missing: list[str],
        unexpected: list[str],
        mismatched: list[str],
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.missing, self.unexpected, self.mismatched = missing, unexpected, mismatched
