"""What a drawing shows: each op on its own, repeated blocks as one ``×N`` box, modules collapsed
and far ops left out when the graph is over ``max_nodes``."""

from __future__ import annotations

from collections.abc import Iterable

from tinygrad_cnn.autograd import Context
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.viz.graph import GraphView, Group, collapse_modules, find_repeats, module_depth


class Plan:
    """Which ops a drawing shows one by one, which it shows as group boxes, and which it leaves
    out, given the ``collapse``/``expand``/``max_nodes`` choices."""

    def __init__(self, view: GraphView, backward: bool, max_nodes: int | None, collapse: bool,
                 expand: Iterable[str], keep: list[Context]) -> None:
        self.view = view
        expand = set(expand) | {c.scope for c in keep if c.scope}
        groups = find_repeats(view.forward, expand) if collapse else []
        self.notes: list[str] = []
        self.dropped = 0
        if max_nodes is not None and self._size(groups, backward) > max_nodes:
            depth = module_depth(view.forward)
            fitted = None
            # the modules named in ``expand`` stay open (and so do the modules holding them)
            opened = keep + [c for c in view.forward if c.scope and any(
                c.scope == p or c.scope.startswith(p + ".") or p == "*" for p in expand)]
            for d in range(depth, 0, -1):  # collapse as little as needed: deepest modules first
                trial = collapse_modules(view.forward, d, groups, opened)
                fitted = trial
                if self._size(trial, backward) <= max_nodes:
                    break
            if fitted is not None and len(fitted) > len(groups):
                hidden = [g for g in fitted if g not in groups]
                n_ops = sum(len(g.members) for g in hidden)
                names = ", ".join(g.key for g in hidden[:8]) + (", …" if len(hidden) > 8 else "")
                self.notes.append(f"{len(hidden)} modules ({n_ops:,} ops) collapsed to stay near "
                                  f"max_nodes={max_nodes}: {names}; expand=[...] opens one")
                groups = fitted
        self.groups = groups
        self.group_of: dict[int, Group] = {id(c): g for g in groups for c in g.members}
        units = self._units()
        if max_nodes is not None and self._size(groups, backward) > max_nodes:
            kept, budget = [], max_nodes
            keep_ids = {id(c) for c in keep}
            for u in reversed(units):  # nearest the outputs first
                budget -= self._cost(u, backward)
                if budget < 0 and kept and not (isinstance(u, Context) and id(u) in keep_ids):
                    break
                kept.append(u)
            kept += self._highlighted(units, kept, keep_ids, max_nodes, backward)
            shown = {id(c) for u in kept for c in (u.members if isinstance(u, Group) else [u])}
            self.dropped = sum(id(c) not in shown for c in view.forward)
            units = [u for u in units if any(id(c) in shown for c in
                                             (u.members if isinstance(u, Group) else [u]))]
        self.units = units  # in forward order
        self.shown = {id(c) for u in units for c in (u.members if isinstance(u, Group) else [u])}

    def _highlighted(self, units: list[Context | Group], kept: list[Context | Group],
                     keep_ids: set[int], max_nodes: int, backward: bool) -> list[Context | Group]:
        """The units to show besides ``kept`` so that no highlighted op is left out: each one, and
        the ops that join it to the shown part when they cost at most ``max_nodes`` more; else
        the highlighted op alone, with a note that what joins it is not shown."""
        def members(u: Context | Group) -> list[Context]:
            return u.members if isinstance(u, Group) else [u]

        kept_ids = {id(u) for u in kept}
        missing = [u for u in units if id(u) not in kept_ids
                   and any(id(c) in keep_ids for c in members(u))]
        if not missing:
            return []
        unit_of = {id(c): u for u in units for c in members(u)}
        down = {id(u) for u in missing}  # the missing ones and everything computed from them
        for u in units:  # (forward order: inputs before their consumers)
            if id(u) not in down and any(
                    isinstance(e, Context) and id(e) in unit_of and id(unit_of[id(e)]) in down
                    for c in members(u) for e in c.next):
                down.add(id(u))
        joining = [u for u in units if id(u) in down and id(u) not in kept_ids]
        if sum(self._cost(u, backward) for u in joining) <= max_nodes:
            return joining
        between = sum(len(members(u)) for u in joining) - sum(len(members(u)) for u in missing)
        names = ", ".join(sorted({c.fn.name for u in missing for c in members(u)
                                  if id(c) in keep_ids}))
        self.notes.append(f"the highlighted {names} is drawn apart: the {between:,} ops between "
                          f"it and the outputs are not shown (max_nodes={max_nodes})")
        return missing

    def _units(self) -> list[Context | Group]:
        seen: set[int] = set()
        units: list[Context | Group] = []
        for c in self.view.forward:
            g = self.group_of.get(id(c))
            if g is None:
                units.append(c)
            elif id(g) not in seen:
                seen.add(id(g))
                units.append(g)
        return units

    def _cost(self, unit: Context | Group, backward: bool) -> int:
        ctxs = unit.members if isinstance(unit, Group) else [unit]
        consts = sum(e is None for c in ctxs for e in c.next) if not backward else 0
        return (1 if backward else 2) + (consts if isinstance(unit, Context) else 0)

    def _size(self, groups: list[Group], backward: bool) -> int:
        grouped = {id(c) for g in groups for c in g.members}
        free = [c for c in self.view.forward if id(c) not in grouped]
        inner = {id(e) for g in groups for c in g.members for e in c.next if isinstance(e, Tensor)}
        outer = {id(e) for c in free for e in c.next if isinstance(e, Tensor)}
        leaves = len(outer) + (0 if groups else len(inner - outer))
        consts = 0 if backward else sum(e is None for c in free for e in c.next)
        per_op = 1 if backward else 2
        return per_op * (len(free) + len(groups)) + leaves + consts

    def unit(self, ctx: Context) -> Context | Group | None:
        """What stands for ``ctx`` in the drawing: itself, its group, or nothing (left out)."""
        if id(ctx) not in self.shown:
            return None
        return self.group_of.get(id(ctx), ctx)
