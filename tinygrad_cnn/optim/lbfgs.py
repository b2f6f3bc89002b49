"""L-BFGS, PyTorch's port of minFunc: a closure-based ``step`` that runs up to ``max_iter``
quasi-Newton iterations on all parameters as one flat vector, with a fixed step or a strong-Wolfe
line search (PyTorch's port of ``lswolfe.lua``, here line for line so the trajectories agree)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinygrad_cnn._scalars import check_number
from tinygrad_cnn.autograd import enable_grad
from tinygrad_cnn.backend import array_module, to_device
from tinygrad_cnn.nn.module import _foreign_array
from tinygrad_cnn.optim import Optimizer, _invalid
from tinygrad_cnn.tensor import Tensor

__all__ = ["LBFGS"]


def _dot(a: Any, b: Any) -> np.float64:
    # a numpy scalar, not a Python float: a step that divides by zero gives inf as PyTorch's 0-d
    # tensors do, not ZeroDivisionError
    return np.float64(float(array_module(a).dot(a, b)))


def _max_abs(a: Any) -> np.float64:
    return np.float64(float(array_module(a).abs(a).max())) if a.size else np.float64(0.0)


def _cubic_interpolate(x1: Any, f1: Any, g1: Any, x2: Any, f2: Any, g2: Any,
                       bounds: tuple[Any, Any] | None = None) -> Any:
    """The minimiser of the cubic through two points with their values and slopes, clamped to
    ``bounds`` (default: between the points); their midpoint when the cubic has none."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / np.float64(x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func: Callable[[Any, Any], tuple[float, Any]], t: Any, d: Any, f: float,
                  g: Any, gtd: Any, c1: float = 1e-4, c2: float = 0.9,
                  tolerance_change: float = 1e-9,
                  max_ls: int = 25) -> tuple[float, Any, Any, int]:
    """A step ``t`` along ``d`` meeting the strong Wolfe conditions (sufficient decrease ``c1``,
    curvature ``c2``): bracket, then zoom by cubic interpolation. Returns the loss, the flat
    gradient and the step there, and the number of evaluations."""
    d_norm = _max_abs(d)
    g = g.copy()
    f_new, g_new = obj_func(t, d)
    ls_func_evals = 1
    gtd_new = _dot(g_new, d)

    # bracket an interval that holds a point satisfying the conditions
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    bracket: list[Any] = []
    bracket_f: list[Any] = []
    bracket_g: list[Any] = []
    bracket_gtd: list[Any] = []
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        # extrapolate
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(t, d)
        ls_func_evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1

    if ls_iter >= max_ls:  # out of evaluations while bracketing
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point satisfies the conditions
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break  # the bracket is too small
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1],
                               bracket_f[1], bracket_gtd[1])
        # a trial too close to an end of the bracket (twice running, or outside it) moves to
        # 0.1 of the bracket's length from that end
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(t, d)
        ls_func_evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # not enough decrease, or not below the low end: the new high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True  # the Wolfe conditions hold
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the old high end becomes the low end
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


class LBFGS(Optimizer):
    """Limited-memory BFGS (PyTorch's, after minFunc). ``step(closure)`` calls ``closure`` (which
    clears the gradients, computes the loss, backpropagates and returns the loss) up to
    ``max_eval`` times, for up to ``max_iter`` iterations: the direction from the last
    ``history_size`` curvature pairs, the step ``lr`` (the first iteration ever
    ``min(1, 1 / |g|_1) * lr``) or, with ``line_search_fn="strong_wolfe"``, a strong-Wolfe line
    search from there. It stops early when ``max|g| <= tolerance_grad``, or the step or the loss
    change falls below ``tolerance_change``. Returns the closure's first loss.

    One parameter group only (PyTorch's rule). Its state (PyTorch's names) lives under the first
    parameter: the direction ``d``, the step ``t``, the pairs ``old_dirs``/``old_stps``/``ro``,
    ``H_diag``, ``prev_flat_grad``, ``prev_loss``, counters ``n_iter`` and ``func_evals``.
    Memory: ``2 * history_size`` flat copies of all the parameters (the pairs), and a few more."""

    def __init__(self, params: Iterable[Any], lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        check_number("LBFGS", "lr", lr, "one")
        check_number("LBFGS", "max_iter", max_iter)
        if not 0.0 <= lr:
            raise _invalid("LBFGS", "learning rate", lr, "lr must be >= 0")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size, line_search_fn=line_search_fn))

    def _check_group(self, group: dict[str, Any]) -> None:
        """The options a step reads (also those of a loaded state_dict)."""

        def count(k: str) -> None:
            v = group[k]
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"LBFGS: {k} must be an int >= 1, got {v!r}")

        lr = group["lr"]
        if isinstance(lr, bool) or not isinstance(lr, (int, float, np.number)):
            raise TypeError(f"LBFGS: lr must be a Python or numpy number here (not a tensor), got "
                            f"{type(lr).__name__} {lr!r}")
        if not lr >= 0:
            raise _invalid("LBFGS", "learning rate", lr, "lr must be >= 0")
        for k in ("max_iter", "max_eval", "history_size"):
            count(k)
        for k in ("tolerance_grad", "tolerance_change"):
            v = group[k]
            if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not v >= 0:
                raise ValueError(f"LBFGS: {k} must be a number >= 0, got {v!r}")
        # (an unknown line_search_fn is PyTorch's error at step(), named there)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups); "
                             "give all parameters in one group")
        super().add_param_group(param_group)

    # ------------------------------------------------------------------ the flat vector
    def _group_params(self) -> list[Tensor]:
        return self.param_groups[0]["params"]

    def _gather_flat_grad(self) -> Any:
        params = self._group_params()
        xp = array_module(params[0]._data)
        return xp.concatenate([p.grad._data.reshape(-1) if p.grad is not None
                               else xp.zeros(p._data.size, p._data.dtype) for p in params])

    def _add_grad(self, step_size: Any, update: Any) -> None:
        """``params += step_size * update``, ``update`` flat."""
        offset = 0
        for p in self._group_params():
            n = p._data.size
            p._data += step_size * update[offset:offset + n].reshape(p._data.shape)
            p._version_counter[0] += 1
            offset += n

    def _set_params(self, saved: list[Any]) -> None:
        for p, data in zip(self._group_params(), saved):
            p._data[...] = data
            p._version_counter[0] += 1

    def _directional_evaluate(self, closure: Callable[[], Any], x: list[Any], t: Any,
                              d: Any) -> tuple[float, Any]:
        """The loss and flat gradient at ``x + t d``; the parameters are left at ``x``."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_params(x)
        return loss, flat_grad

    # ------------------------------------------------------------------ the step
    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Up to ``max_iter`` L-BFGS iterations; ``closure`` re-evaluates the model and returns
        the loss (after ``backward()``). Returns the closure's first result."""
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._check_updatable(every=True)
        user = np.geterr()
        graded = enable_grad()(closure)

        def users_closure() -> Any:  # the closure is the user's code: their numpy error settings
            with np.errstate(**user):
                return graded()

        with np.errstate(all="ignore"):  # the line search's inf and NaN arithmetic
            return self._step(users_closure)

    def _step(self, closure: Callable[[], Any]) -> Any:
        group = self.param_groups[0]
        lr = group["lr"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        # all the state is global; it lives under the first parameter, as in PyTorch
        state = self.state.setdefault(self._group_params()[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if _max_abs(flat_grad) <= tolerance_grad:
            return orig_loss  # optimal already

        # (the state holds tensors, as PyTorch's; the iterations work on their arrays)
        d, t = _array(state.get("d")), state.get("t")
        old_dirs, old_stps = _array(state.get("old_dirs")), _array(state.get("old_stps"))
        ro, h_diag = state.get("ro"), state.get("H_diag")
        prev_flat_grad, prev_loss = _array(state.get("prev_flat_grad")), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # the descent direction
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                h_diag = 1
            else:
                # update the memory with the newest curvature pair, if it is one
                y = flat_grad - prev_flat_grad
                s = d * float(t)  # (Python floats: the arrays keep the parameters' dtype)
                ys = _dot(y, s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / _dot(y, y)  # the initial inverse Hessian's scale
                # the two-loop recursion: d = -H g
                num_old = len(old_dirs)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = _dot(old_stps[i], q) * ro[i]
                    q += -float(al[i]) * old_dirs[i]
                d = r = q * float(h_diag)
                for i in range(num_old):
                    be_i = _dot(old_dirs[i], r) * ro[i]
                    r += float(al[i] - be_i) * old_stps[i]

            prev_flat_grad = flat_grad.copy()
            prev_loss = loss

            # the step length
            if state["n_iter"] == 1:
                xp = array_module(flat_grad)
                t = min(1.0, 1.0 / np.float64(float(xp.abs(flat_grad).sum()))) * lr
            else:
                t = lr
            gtd = _dot(flat_grad, d)  # the directional derivative
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError(f"LBFGS: only 'strong_wolfe' is supported as "
                                       f"line_search_fn, got {line_search_fn!r}")
                x_init = [p._data.copy() for p in self._group_params()]

                def obj_func(t: Any, d: Any, x: list[Any] = x_init) -> tuple[float, Any]:
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = _max_abs(flat_grad) <= tolerance_grad
            else:
                self._add_grad(t, d)  # a fixed step
                opt_cond = False
                if n_iter != max_iter:
                    # re-evaluated except after the last iteration (PyTorch's reasoning: with
                    # stochastic losses that evaluation would be of no use)
                    loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = _max_abs(flat_grad) <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # stop?
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if _max_abs(d * t) <= tolerance_change:
                break  # no progress in the parameters
            if abs(loss - prev_loss) < tolerance_change:
                break  # no progress in the loss

        state.update(d=_tensor(d, state.get("d")), t=t, old_dirs=_tensor(old_dirs),
                     old_stps=_tensor(old_stps), ro=ro, H_diag=h_diag,
                     prev_flat_grad=_tensor(prev_flat_grad, state.get("prev_flat_grad")),
                     prev_loss=prev_loss)
        return orig_loss

    # ------------------------------------------------------------------ state_dict
    def _check_state(self) -> None:
        """The loaded state must be one ``step`` could have left: counters, and after a step the
        direction, pairs and scalars, its vectors as long as all the parameters together (a
        state_dict of another model fails here, not with a numpy error in the next step)."""
        params = self._group_params()
        state = self.state.get(params[0]) if params else None
        if not state:
            return
        size = sum(p._data.size for p in params)

        def refuse(what: str) -> ValueError:
            return ValueError(f"LBFGS.load_state_dict: {what}; load a state_dict that LBFGS "
                              f"saved for these parameters ({size} elements in all), or none")

        for k in ("n_iter", "func_evals"):
            v = state.get(k, 0)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise refuse(f"state {k!r} must be a count >= 0, got {v!r}")
        if state.get("n_iter", 0) == 0:
            return
        needed = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad",
                  "prev_loss")
        missing = [k for k in needed if state.get(k) is None]
        if missing:
            raise refuse(f"the state after {state['n_iter']} iterations lacks {missing}")

        def vector(k: str, v: Any) -> None:
            if tuple(getattr(_array(v), "shape", ())) != (size,):
                shape = getattr(v, "shape", type(v).__name__)
                raise refuse(f"state {k!r} must be a flat vector of shape ({size},), got {shape}")

        def number(k: str, v: Any) -> None:
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise refuse(f"state {k!r} must be a number, got {type(v).__name__}")

        for k in ("t", "H_diag", "prev_loss"):  # numbers, as step leaves them
            v = state[k]
            if isinstance(v, Tensor) and v._data.shape == ():
                state[k] = v = np.float64(v.item()) if k == "H_diag" else float(v.item())
            number(k, v)
        vector("d", state["d"])
        vector("prev_flat_grad", state["prev_flat_grad"])
        pairs = [state[k] for k in ("old_dirs", "old_stps", "ro")]
        if not all(isinstance(v, list) for v in pairs) or len({len(v) for v in pairs}) != 1:
            raise refuse("states 'old_dirs', 'old_stps' and 'ro' must be lists of one length, "
                         f"got {[len(v) if isinstance(v, list) else type(v).__name__ for v in pairs]}")
        for k, v in zip(("old_dirs", "old_stps"), pairs[:2]):
            for x in v:
                vector(k, x)
        for x in pairs[2]:
            number("ro", x)
        history = self.param_groups[0]["history_size"]
        if len(pairs[0]) > history:
            raise refuse(f"it holds {len(pairs[0])} curvature pairs, more than history_size "
                         f"{history}")
        al = state.get("al")
        if al is not None and (not isinstance(al, list) or len(al) < len(pairs[0])):
            raise refuse(f"state 'al' must be a list of at least {len(pairs[0])} numbers")

    @staticmethod
    def _export_state(v: Any) -> Any:
        if isinstance(v, list):
            return [LBFGS._export_state(x) for x in v]
        if isinstance(v, Tensor):
            return v.detach().clone()
        if isinstance(v, np.generic):
            return v.item()
        return Optimizer._export_state(v)

    def _import_state(self, i: int, p: Tensor, k: str, v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return [self._import_state(i, p, k, x) for x in v]
        if hasattr(v, "shape") and getattr(v, "ndim", 0) > 0:
            # flat vectors over all the parameters, not of one parameter's shape
            return to_device(_foreign_array(v), p.device).astype(p.dtype, copy=True)
        if v is None:
            return None
        value = v.item() if hasattr(v, "item") else v  # PyTorch keeps numbers as 0-d tensors
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"LBFGS.load_state_dict: state {k!r} must be a number or a tensor, "
                             f"got {type(v).__name__} {v!r:.40}")
        if k in ("n_iter", "func_evals") or isinstance(value, int):
            return int(value)  # (H_diag is the int 1 until the first curvature pair)
        return np.float64(value)


def _array(v: Any) -> Any:
    """A state value as the iterations use it: a tensor's array (lists of them too)."""
    if isinstance(v, list):
        return [_array(x) for x in v]
    return v._data if isinstance(v, Tensor) else v


def _tensor(v: Any, kept: Any = None) -> Any:
    """A state value as ``optimizer.state`` shows it: arrays as tensors (the one ``kept``,
    updated in place, where it held this array's shape), lists of them too."""
    if isinstance(v, list):
        return [_tensor(x) for x in v]
    if not (hasattr(v, "shape") and hasattr(v, "dtype")):
        return v
    if isinstance(kept, Tensor) and kept._data.shape == v.shape and kept._data.dtype == v.dtype:
        if kept._data is not v:
            kept._data[...] = v
            kept._version_counter[0] += 1
        return kept
    return Tensor._make(v)
