"""Numerical gradient checks: ``gradcheck`` and ``gradgradcheck`` (PyTorch's signatures), and
``check_grads``, which returns the :class:`GradcheckReport` instead of raising.

What they add to PyTorch's checks (each is a file of this package):

* ``check.py`` -- whole Jacobians from central differences, or random projections ``v . J u``
  (``fast_mode``); inputs in float16/float32 are checked on float64 copies; ``gradgradcheck``
  checks the first derivatives before the second.
* ``jacobian.py`` -- finite differences with their one-sided slopes: where the left and right
  slopes disagree the report says *not differentiable* (a kink), not *wrong VJP*.
* ``taylor.py`` -- ``method="taylor"``: the Taylor remainder must shrink as h², no eps to tune.
* ``culprit.py`` -- a failing composite is replayed op by op to name the op that is wrong.
* ``report.py`` -- the report: the worst entries first, a likely cause, small Jacobians only.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

from tinygrad_cnn.autograd import OnceDifferentiableError
from tinygrad_cnn.gradcheck.check import check_grads
from tinygrad_cnn.gradcheck.report import (
    GradcheckError,
    GradcheckReport,
    NotDifferentiableError,
)
from tinygrad_cnn.tensor import Tensor

__all__ = ["GradcheckError", "GradcheckReport", "NotDifferentiableError", "check_grads",
           "gradcheck", "gradgradcheck"]


def _not_here(where: str, **asked: bool) -> None:
    """PyTorch's checks that need forward-mode AD or vmap, which this engine does not have."""
    for flag, on in asked.items():
        if on:
            raise NotImplementedError(
                f"{where}: {flag}=True needs forward-mode AD or vmap, which tinygrad_cnn does not "
                f"have; pass {flag}=False (the default)")


def _verdict(report: GradcheckReport, raise_exception: bool) -> bool:
    if report.ok:
        if report.atol_hid:  # (PyTorch's passes such a check silently)
            where = "gradgradcheck" if report.order == 2 else "gradcheck"
            warnings.warn(f"{where}: {report.atol_hid}", UserWarning, stacklevel=3)
        return True
    if raise_exception:
        raise report.error()
    return False


def gradcheck(func: Callable[..., Any], inputs: Tensor | Sequence[Any], *, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
              nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False, masked: bool | None = None,
              method: str = "finite_differences", avoid_kinks: bool = False,
              find_culprit: bool = True, seed: int = 0) -> bool:
    """Check the gradients (VJPs) of ``func`` at ``inputs`` against the function's own values.

    ``func`` returns a Tensor or a tuple of Tensors; ``inputs`` is a Tensor or a tuple of
    arguments, and the Tensors among them with ``requires_grad=True`` are checked (their ``data``
    is perturbed in place and restored, so a function that closes over them -- a model over its
    parameters -- works too). Returns True, or raises :class:`GradcheckError` (returns False with
    ``raise_exception=False``) whose message -- and ``err.report`` -- says what is wrong.

    How it compares: the *analytical* Jacobian comes from the engine (one ``grad()`` call per
    output element, run twice: a VJP must give the same result every time); the *numerical* one
    from central differences ``(f(x + eps) - f(x - eps)) / (2 eps)``, element by element. An entry
    passes when ``|analytical - numerical| <= atol + rtol * |numerical|``. Then what one-hot
    gradients cannot show: the VJP must be linear in a random gradient of both signs, and (in
    every mode) give for gradients on all outputs at once the sum of what it gives for each
    alone, and the same for a gradient held in a non-contiguous array (as after a transpose).

    ``eps``: the finite-difference step. Smaller is more exact for smooth functions until rounding
    takes over (float64: 1e-6 is right for values of order 1; scale it with your inputs).
    ``atol``: the absolute tolerance -- what matters for entries near 0.
    ``rtol``: the relative tolerance -- what matters for large entries.
    ``fast_mode``: instead of whole Jacobians (two evaluations per input element and one backward
    per output element), compare two random projections ``v . J u`` per input/output pair: four
    evaluations per input and four backward passes per output. Use it for big inputs (a
    convolution over images checks in well under a second). When it fails on an input of up to
    1024 elements it finds the wrong elements itself. The two projections: one along Gaussian
    directions, where errors of either sign cannot cancel each other out, one along positive
    directions (PyTorch's), where a VJP that adds a constant (``g * cos(x) + 0.1``) cannot hide
    behind ``sum(u)`` near 0. What a projection can still miss: an error in a few elements of a
    big Jacobian adds only about ``error * |u_k| * |v_k|`` (``u`` has unit norm, so ``|u_k| ~
    1/sqrt(n)``), and a small error in every element (0.2 %) about as much as the tolerance
    ``atol + rtol * |v . J u|``: either can pass for some draws of ``u`` and ``v`` (a factor 2 at
    one element of 2000 passes for about one seed in five). The way out: the full check
    (``fast_mode=False``) on a smaller input, which compares every entry, or fast mode with
    several seeds (``seed=0, 1, 2, ...``); each draw misses independently.
    ``nondet_tol``: how much two backward passes may differ (0: bit for bit). Two calls of the
    function itself (checked first: dropout or noise fail as *not deterministic*) may differ by
    that plus what cannot move a difference quotient: ``0.1 * atol * eps`` and a few ulps of the
    value (a sum in another order passes, as in PyTorch).
    ``method="taylor"``: no eps or tolerance at all -- the remainder
    ``|f(x + h v) - f(x) - h J v|`` must shrink as h² over a sequence of h; the report gives the
    observed order (about 2: right; about 1: wrong).
    ``avoid_kinks``: where the check point sits on a kink (relu at 0, a tie of max, clamp at its
    bound), move those elements a little and check there; the report says which moved. Without
    it, a kink fails the check as *not differentiable* (:class:`NotDifferentiableError`), with
    both one-sided slopes -- never as a wrong VJP -- and a VJP whose value at the kink lies
    outside the slopes fails as wrong; with it, the point moves and that value is not checked.
    Tied inputs (a median of equal values: each element alone moves the output one way, all
    together another) are reported as not differentiable too.
    ``find_culprit``: when the check of a composite fails, check every op of its graph by itself
    and name the first one that is wrong (``err.node``; ``viz.draw(*err.report.outputs,
    highlight=err.node)`` draws it).
    ``seed``: the random directions of fast mode and the Taylor test (see ``fast_mode``: a few
    seeds make a miss unlikely).

    Precision: float16/float32 inputs are checked on float64 copies (the function and its VJPs run
    in float64), so rounding cannot fail the check and a wrong VJP still does; the report says so.
    Where it mixes in float16/float32 tensors it holds (a model's parameters), those run as
    float64 copies too (given back unchanged). Where it still cannot run in float64 (it makes
    low-precision tensors itself), a float32 check runs in float32 with eps, atol and rtol widened
    for it, and a float16 one is refused with a ValueError: finite differences in float16 cannot
    tell a right VJP from a wrong one.

    PyTorch's other flags are accepted so that its tests port unchanged: gradient dtypes are always
    checked (by the engine, at every VJP), so ``check_grad_dtypes`` changes nothing; undefined
    output gradients do not arise here, so ``check_undefined_grad`` neither; ``masked`` is
    ignored; ``check_backward_ad=False`` checks nothing and returns True; the batched and
    forward-mode checks need vmap or forward-mode AD and raise ``NotImplementedError`` if asked for.
    """
    _not_here("gradcheck", check_batched_grad=check_batched_grad,
              check_batched_forward_grad=check_batched_forward_grad,
              check_forward_ad=check_forward_ad)
    if not check_backward_ad:
        return True
    report = check_grads(func, inputs, order=1, eps=eps, atol=atol, rtol=rtol,
                         nondet_tol=nondet_tol, fast_mode=fast_mode, method=method,
                         avoid_kinks=avoid_kinks, find_culprit=find_culprit, seed=seed)
    return _verdict(report, raise_exception)


def gradgradcheck(func: Callable[..., Any], inputs: Tensor | Sequence[Any],
                  grad_outputs: Tensor | Sequence[Tensor] | None = None, *, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
                  gen_non_contig_grad_outputs: bool = False, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False, masked: bool = False,
                  method: str = "finite_differences", avoid_kinks: bool = False,
                  find_culprit: bool = True, check_first_order: bool = True,
                  seed: int = 0) -> bool:
    """Check the second derivatives of ``func``: that every VJP is itself correctly differentiable.

    It is ``gradcheck`` of ``(inputs, v) -> grad(func(inputs), inputs, v, create_graph=True)``,
    differentiated with respect to the inputs and to ``v`` (``grad_outputs``; random float64
    tensors shaped like the outputs by default). That alone cannot see a wrong *first* derivative
    -- a VJP off by a factor is differentiated consistently -- so it first checks the first
    derivatives (in fast mode: a few evaluations; ``check_first_order=False`` skips it) and stops
    with a report that says so if they are wrong. A second-order failure says it is one
    (``second derivative: ...``) and, for a composite, names the op whose VJP's VJP is wrong.
    ``gen_non_contig_grad_outputs=True`` passes the random ``grad_outputs`` as non-contiguous
    views. The other arguments are ``gradcheck``'s (``check_rev_over_rev`` is its
    ``check_backward_ad``; ``check_fwd_over_rev`` needs forward-mode AD and raises).
    """
    _not_here("gradgradcheck", check_batched_grad=check_batched_grad,
              check_fwd_over_rev=check_fwd_over_rev)
    if not check_rev_over_rev:
        return True
    try:
        report = check_grads(func, inputs, order=2, grad_outputs=grad_outputs, eps=eps, atol=atol,
                             rtol=rtol, nondet_tol=nondet_tol, fast_mode=fast_mode, method=method,
                             avoid_kinks=avoid_kinks, find_culprit=find_culprit,
                             check_first_order=check_first_order,
                             non_contiguous_grad_outputs=gen_non_contig_grad_outputs, seed=seed)
    except OnceDifferentiableError as exc:  # no second derivative at all: a failed check
        if raise_exception:
            raise GradcheckError(f"gradgradcheck: second derivative: {exc}") from exc
        return False
    return _verdict(report, raise_exception)
