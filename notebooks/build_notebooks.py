"""Write the notebooks from the cells below and execute them, so that the committed .ipynb files
carry their outputs. Run from the repository root after changing a cell:

    python notebooks/build_notebooks.py            # all of them
    python notebooks/build_notebooks.py 03         # the ones whose name contains "03"

The test suite (tests/test_notebooks.py) executes the committed notebooks again, top to bottom.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
M, C = "markdown", "code"

NB1 = [
    (M, """# 1 · A CNN by hand, then by the engine

The tutorial this project grew from builds a convolutional layer by hand in numpy -- forward,
`bp_sensitivity_map`, `bp_gradient`, update -- and checks it on one worked example: a 3×5×5 input,
two 3×3×3 filters with biases 1 and 0, stride 2, zero padding 1, identity activation. Here we run
that example twice: first with the tutorial's plain loops (`tinygrad_cnn.reference`), then with
`F.conv2d` and `backward()`. Every number is asserted, not just printed.

**Glossary** -- the tutorial's words and ours:

| tutorial | tinygrad_cnn / PyTorch |
|---|---|
| sensitivity map (δ, "误差敏感项") | output gradient `grad_output` = ∂Loss/∂output |
| filter, `Filter.weights` | one output channel of `weight` (shape `(K, C, kh, kw)`) |
| `filter_number` / `channel_number` | `out_channels` (K) / `in_channels` (C) |
| `zero_padding` | `padding` |
| `bp_sensitivity_map` (full convolution with the 180°-flipped kernel) | the input gradient = a transposed convolution |
| `bp_gradient` | the weight gradient (a convolution of the input with the output gradient) and the bias gradient (the sum of the sensitivity map) |
| `get_max_index` | the tie rule of max pooling: the first maximum in row-major order |"""),
    (C, """import numpy as np

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, reference

ex = reference.tutorial_example()
a, filters, bias, b = ex["input"], ex["weight"], ex["bias"], ex["grad_output"]
print("input a:", a.shape, " filters:", filters.shape, " biases:", bias, " sensitivity map b:", b.shape)"""),
    (M, """## Forward, with the tutorial's loops

`reference.conv2d` pads the input with zeros, then for every output position takes the patch under
the filter and sums `patch * filter + bias` -- the tutorial's `get_patch` and `conv`, one window
at a time."""),
    (C, """out_loops = reference.conv2d(a[None], filters, bias, stride=2, padding=1)[0]
print(out_loops)
tutorial_forward = np.array([[[6, 7, 5], [3, -1, -1], [2, -1, 4]],
                             [[2, -5, -8], [1, -4, -4], [0, -5, -5]]])
assert np.array_equal(out_loops, tutorial_forward)"""),
    (M, """## Backward, with the tutorial's loops

The gradients follow from the chain rule, product by product (`reference.conv2d_backward`). The
tutorial computes the input gradient differently -- it *expands* the sensitivity map by the stride
(zeros between the entries), pads it, and convolves it with each filter turned by 180°. Both give
the same numbers. Then one SGD step with learning rate 0.001, the tutorial's `Filter.update`."""),
    (C, """grad_x, grad_w, grad_b = reference.conv2d_backward(a[None], filters, b[None], stride=2, padding=1)
flipped = reference.conv2d_input_grad_tutorial((1, 3, 5, 5), filters, b[None], stride=2, padding=1)
assert np.allclose(flipped, grad_x)

lr = 0.001
new_filters_loops = filters - lr * grad_w
new_bias_loops = bias - lr * grad_b
np.set_printoptions(precision=3, suppress=True)
print("filter1 after the update:\\n", new_filters_loops[0])
print("filter2 after the update:\\n", new_filters_loops[1])
print("biases:", [f"{v:.17g}" for v in new_bias_loops])

tutorial_filter1 = np.array([[[-1.008, 0.99, -0.009], [-0.005, 0.994, -0.006], [-0.006, 0.995, 0.996]],
                             [[-1.004, -1.001, -0.004], [-0.01, -0.009, -0.012], [-0.002, -1.002, -0.002]],
                             [[-0.002, -0.002, -1.003], [-0.005, 0.992, -0.005], [0.993, -1.008, -1.007]]])
tutorial_filter2 = np.array([[[0.998, 0.998, -1.001], [-1.004, -1.007, 0.997], [-0.004, -1.004, 0.998]],
                             [[0, 0.999, 0], [-1.009, -0.005, -1.004], [-1.004, 1, 0]],
                             [[-1.004, -0.006, -0.005], [-1.002, -0.005, 0.998], [-1.002, -0.001, 0]]])
assert np.array_equal(np.round(new_filters_loops[0], 3), tutorial_filter1)
assert np.array_equal(np.round(new_filters_loops[1], 3), tutorial_filter2)
assert [f"{v:.17g}" for v in new_bias_loops] == ["0.99099999999999999", "-0.0070000000000000001"]"""),
    (M, """## The same with the engine

Now the tensors record what happens: `F.conv2d` builds the graph, `backward(b)` runs the VJPs --
the input gradient is a `conv_transpose2d` and the weight gradient a `conv2d_weight`, both
vectorised -- and we update with the same rule. The numbers are the same, bit for bit."""),
    (C, """x = Tensor(a[None], requires_grad=True)      # a batch of one (N, C, H, W), float64 as in the tutorial
w = Tensor(filters, requires_grad=True)
bb = Tensor(bias, requires_grad=True)
out = F.conv2d(x, w, bb, stride=2, padding=1)
out.backward(Tensor(b[None]))                  # the sensitivity map is the output gradient
print(out[0])
print("grad_fn:", out.grad_fn.name, out.grad_fn.attrs)

assert np.array_equal(out.numpy()[0], tutorial_forward)
assert np.array_equal(x.grad.numpy(), grad_x) and np.array_equal(w.grad.numpy(), grad_w)
new_w = w.numpy() - lr * w.grad.numpy()
new_b = bb.numpy() - lr * bb.grad.numpy()
assert np.array_equal(new_w, new_filters_loops) and np.array_equal(new_b, new_bias_loops)
print("engine and loops agree; biases after the update:", [f"{v:.17g}" for v in new_b])"""),
    (M, """## Pooling's backward and its tie rule

Max pooling passes each window's gradient to the window's maximum. When a window holds the maximum
twice, the tutorial's `get_max_index` keeps the *first* one in row-major order (its `>` never
replaces an equal value) -- and so do PyTorch and tinygrad_cnn."""),
    (C, """x = np.array([[[[1., 3., 5., 5.],
                [3., 2., 5., 5.],
                [0., 0., 7., 1.],
                [0., 0., 1., 7.]]]])
t = Tensor(x, requires_grad=True)
F.max_pool2d(t, 2).sum().backward()
print("gradient of sum(max_pool2d(x, 2)):\\n", t.grad.numpy()[0, 0])
loops = reference.max_pool2d_backward(x, np.ones((1, 1, 2, 2)), 2)
assert np.array_equal(t.grad.numpy(), loops)
assert t.grad.numpy()[0, 0, 0, 1] == 1 and t.grad.numpy()[0, 0, 1, 0] == 0   # 3 at (0,1) wins over 3 at (1,0)
assert t.grad.numpy()[0, 0, 2:, :2].tolist() == [[1, 0], [0, 0]]             # four zeros: the first"""),
]

NB2 = [
    (M, """# 2 · The backward graph

A small CNN on a small batch, drawn as it computes (the forward graph) and as it is differentiated
(the backward graph) -- with the gradients themselves on the drawing, as text, and one step at a
time. Then two pictures you rarely see: gradients vanishing and exploding through a 20-layer tanh
network, and the graph of a gradient (a gradient made with `create_graph=True` is an ordinary
tensor, so the backward computation itself can be drawn)."""),
    (C, """import numpy as np

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, grad, nn, optim, viz
from tinygrad_cnn.viz import draw

tg.manual_seed(0)
model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
x = Tensor(np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype(np.float32), name="images")
target = np.array([0, 2])
logits = model(x)
logits.name = "logits"
loss = F.cross_entropy(logits, target)
loss.name = "loss"
model"""),
    (M, """## Forward

Tensors are records `name | shape | dtype`; parameters (amber) carry their module path as their
name; ops are grey boxes with their attributes, each beside the name of the module it ran in.
Where the order of operands matters (a convolution's input and weight, `x - y`, `a @ b`) the edges
say which is which. Hover over an op: the tooltip gives the line of code that created it
(`show_source=True` prints it in the box)."""),
    (C, """draw(loss)"""),
    (M, """The same graph as text -- one line per op, in the order the forward ran them. It needs no
Graphviz, and it is the same on every machine, so it can be a golden file in your own tests."""),
    (C, """print(viz.text(loss))"""),
    (M, """## Backward, before and after

`backward()` runs the VJPs newest first; the drawing numbers them in that order and labels each edge
with the shape of the gradient that flows along it. Before any backward has run there are no
gradients -- and the drawing says so, instead of showing zeros."""),
    (C, """before = draw(loss, backward=True)
assert "grad not computed" in before.source and "‖g‖ = 0" not in before.source
before"""),
    (M, """Run the backward inside `viz.record_gradients(loss)` and every node is coloured by the norm of
the gradient it receives (log scale: blue small, red large; the colour bar is in the legend), the
edges carry the norms of what each VJP sends, and a scalar shows its value (`g = 1` at the loss).
Lavender records are the tensors each op saved for its VJP -- named: the convolution keeps its
*im2col columns* for the weight gradient, max pooling its *max indices*."""),
    (C, """with viz.record_gradients(loss):
    loss.backward(retain_graph=True)
draw(loss, backward=True, show_saved=True)"""),
    (C, """print(viz.text(loss, backward=True))"""),
    (C, """for name, p in model.named_parameters():
    print(f"{name:10s} shape {p.shape!s:14s} |grad| = {np.linalg.norm(p.grad.numpy()):.4f}")
w_norm = np.linalg.norm(model[0].weight.grad.numpy())
assert f"‖grad‖ = {w_norm:.4g}" in viz.text(loss, backward=True)
opt = optim.SGD(model.parameters(), lr=0.1)
before = F.cross_entropy(model(x), target).item()
opt.step()
after = F.cross_entropy(model(x), target).item()
print(f"loss before the step {before:.4f}, after {after:.4f}")
assert after < before"""),
    (M, """## One step at a time

`viz.animate(loss)` runs a backward of its own (touching no `.grad`) and returns a step-through:
one frame per VJP, with the gradient it receives, what it sends to each input, its formula and its
code. Drag the slider or use the buttons. `.save("backprop.html")` writes the same page as one
self-contained file (`python -m tinygrad_cnn draw --model lenet5 --animate -o backprop.html` does
it for LeNet-5)."""),
    (C, """logits2 = model(x)
loss2 = F.cross_entropy(logits2, target)
loss2.name = "loss"
steps = viz.animate(loss2)
assert [f["op"] for f in steps.frames] == ["cross_entropy", "linear", "reshape", "max_pool2d",
                                           "relu", "conv2d"]
steps"""),
    (M, """## Vanishing and exploding gradients, at a glance

Twenty `Linear` + `tanh` layers. With PyTorch's default initialisation the weights are small
(`U(-1/√fan_in, 1/√fan_in)`) and every layer shrinks the gradient: the layers near the input get
almost nothing (blue). Multiply the initial weights by 6 and the network is in its chaotic regime:
each layer *grows* the gradient, and the layers near the input get large ones (the warmer colours;
not strictly in order: the second layer's weight gradient outgrows the first's). (The biases are
scaled by 6 too.) Repeated blocks would
normally collapse to one `×N` box; `expand=["*"]` keeps every layer visible."""),
    (C, """def tanh_mlp(gain, depth=20, width=32):
    tg.manual_seed(0)
    layers = [nn.Linear(3, width), nn.Tanh()]
    for _ in range(depth - 1):
        layers += [nn.Linear(width, width), nn.Tanh()]
    mlp = nn.Sequential(*layers, nn.Linear(width, 1))
    with tg.no_grad():
        for p in mlp.parameters():
            p.mul_(gain)
    return mlp

inputs = Tensor(np.random.default_rng(1).standard_normal((32, 3)).astype(np.float32))
nets = {}
for gain in (1.0, 6.0):
    mlp = tanh_mlp(gain)
    out = (mlp(inputs) ** 2).mean()
    out.name = f"loss (gain {gain:g})"
    with viz.record_gradients(out):
        out.backward()
    first, last = mlp[0].weight.grad.numpy(), mlp[38].weight.grad.numpy()
    print(f"gain {gain:g}: |grad| of the first layer's weight {np.linalg.norm(first):.3g}, "
          f"of the last hidden layer's {np.linalg.norm(last):.3g}")
    nets[gain] = (mlp, out)
assert np.linalg.norm(nets[1.0][0][0].weight.grad.numpy()) < 1e-3 * np.linalg.norm(nets[1.0][0][38].weight.grad.numpy())
assert np.linalg.norm(nets[6.0][0][0].weight.grad.numpy()) > 10 * np.linalg.norm(nets[6.0][0][38].weight.grad.numpy())"""),
    (C, """draw(nets[1.0][1], backward=True, expand=["*"], title="default init: vanishing")"""),
    (C, """draw(nets[6.0][1], backward=True, expand=["*"], title="6 × default init: exploding")"""),
    (C, """draw(nets[6.0][1], backward=True, title="the same, repeated blocks collapsed")"""),
    (M, """## The first NaN or Inf

Inside `tg.detect_anomaly()` the first op whose forward makes a NaN or an Inf from finite inputs
(or whose VJP does) raises `AnomalyError`, naming the op, the line that created it, its module and
its inputs' ranges. Its `.node` is the graph node: `highlight=` draws it red."""),
    (C, """head = nn.Linear(4, 3)
with tg.no_grad():
    head.weight.mul_(400.0)  # over-confident logits
features = Tensor(np.random.default_rng(2).standard_normal((2, 4)).astype(np.float32), name="features")
try:
    with tg.detect_anomaly(), np.errstate(divide="ignore"):
        probs = F.softmax(head(features), dim=1)  # some probabilities underflow to exactly 0
        nll = -probs.log().mean()                 # log(0) = -inf: the first non-finite value
except tg.AnomalyError as err:
    anomaly = err
print(str(anomaly).split(" The log was created")[0])
print("created at", viz.source_text(anomaly.node))
assert anomaly.node.fn.name == "log" and "made Inf" in str(anomaly)
draw(anomaly.output, highlight=anomaly.node)"""),
    (M, """(`F.cross_entropy` computes the log-softmax in one stable op, so it never takes `log(0)`.)"""),
    (M, """## The graph of a gradient

`grad(..., create_graph=True)` records the backward pass, so the input gradient of a strided
convolution is a tensor with its own graph: a **`conv_transpose2d`** -- the tutorial's
"full convolution with the 180°-flipped kernel" -- fed by the output gradient."""),
    (C, """xs = Tensor(np.random.default_rng(1).standard_normal((1, 2, 6, 6)), requires_grad=True, name="x")
ws = Tensor(np.random.default_rng(2).standard_normal((3, 2, 3, 3)), requires_grad=True, name="weight")
y = F.conv2d(xs, ws, stride=2, padding=1)
(gx,) = grad((y * y).sum(), xs, create_graph=True)
gx.name = "dL/dx"
assert "conv_transpose2d" in viz.text(gx)
draw(gx)"""),
    (C, """# and it can be differentiated again: a Hessian-vector product
v = Tensor(np.random.default_rng(3).standard_normal(xs.shape))
(hv,) = grad((gx * v).sum(), xs)
print("Hessian-vector product:", hv.shape, f"norm {np.linalg.norm(hv.numpy()):.4f}")"""),
]

NB3 = [
    (M, """# 3 · Your own op, checked

The tutorial says: to try another activation, add a class to `activators.py` with `forward` and
`backward`. Here that is a `Function` -- `forward` on arrays, `backward` in tensor operations -- and
`gradcheck` / `gradgradcheck` check it against the function's own values. When a check fails, its
report says **where** (the worst elements), **why** (a likely cause, or a kink) and **which op** (in
a model)."""),
    (C, """import numpy as np

from tinygrad_cnn import Function, GradcheckError, Tensor, gradcheck, gradgradcheck
from tinygrad_cnn.gradcheck import NotDifferentiableError, check_grads


class Softplus(Function):
    \"\"\"log(1 + exp(x)); its derivative is the sigmoid.\"\"\"
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x)
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid()            # tensor ops: differentiable again

x = Tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
print(Softplus.apply(x))
assert gradcheck(Softplus.apply, x)
assert gradgradcheck(Softplus.apply, x)
print("gradcheck and gradgradcheck pass")"""),
    (M, """## Break it on purpose

A common slip: a factor in the derivative. The report leads with the worst element (both values,
both errors, the rule), then a likely cause it recognises from the numbers, then the worst
entries. Whole Jacobians are printed only when they are small."""),
    (C, """class BrokenSoftplus(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x)
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid() * 1.1      # 10% too large

try:
    gradcheck(BrokenSoftplus.apply, x)
except GradcheckError as err:
    report = str(err)
print(report)
assert "Jacobian mismatch for output 0 with respect to input 0" in report
assert "Likely cause: analytical = 11/10 × numerical" in report
assert gradcheck(BrokenSoftplus.apply, x, raise_exception=False) is False"""),
    (M, """## Right to first order only

A VJP can be right but not differentiable -- for instance if it computes with `.data`, outside the
graph. `gradcheck` passes it; `gradgradcheck` differentiates the VJP itself, says that the
*second* derivative is wrong, and points at `backward`'s `return` line, where the gradient made
outside the graph comes out.
(`gradgradcheck` also checks the first derivatives first: a VJP that is wrong but differentiable
would otherwise pass a second-derivative check.)"""),
    (C, """class FirstOrderOnly(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x)
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = Tensor(1 / (1 + np.exp(-x.data)))     # computed outside the graph
        return grad * s

assert gradcheck(FirstOrderOnly.apply, x)
try:
    gradgradcheck(FirstOrderOnly.apply, x)
except GradcheckError as err:
    second = str(err)
print(second.split("The worst entries")[0])
assert second.startswith("second derivative: the VJP of `first_order_only`'s VJP is wrong")
assert ".data" in second"""),
    (M, """## A kink is not a wrong VJP

At 0, relu has a left slope of 0 and a right slope of 1; no VJP can match the central difference
(their mean) there. The check says so -- *not differentiable*, with both slopes and what the VJP
gave -- instead of blaming the VJP. `avoid_kinks=True` moves the check point a little off the kink
and says which elements it moved."""),
    (C, """k = Tensor(np.array([0.0, 1.5, -0.7]), requires_grad=True)
try:
    gradcheck(lambda t: t.relu(), k)
except NotDifferentiableError as err:
    kink = str(err)
print(kink)
assert kink.startswith("not differentiable") and "left slope:  0" in kink and "right slope: 1" in kink

moved = check_grads(lambda t: t.relu(), k, avoid_kinks=True)
print(moved)
assert moved.ok and "moved input 0's element(s) (0,)" in str(moved)"""),
    (M, """## float32, checked in float64

Central differences in float32 drown in rounding: with eps = 1e-6 the step is only about eight
of float32's spacings near 1 (1.2e-7 each), and rounding f(x ± h) to float32 swamps the difference. So a float32 (or float16) input is checked on a float64 copy of the
computation -- the op runs in float64 -- and the report says so. No spurious failures, and a
wrong VJP still fails."""),
    (C, """x32 = Tensor(np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32), requires_grad=True)

# what naive float32 central differences give for d softplus(x)/dx at x = 0.3 (true: 0.574443)
h, x0 = np.float32(1e-6), np.float32(0.3)
naive = (np.logaddexp(np.float32(0), x0 + h) - np.logaddexp(np.float32(0), x0 - h)) / (2 * h)
print(f"naive float32 difference: {naive:.6f}")

report = check_grads(Softplus.apply, x32)
print(report)
assert report.ok and "float64 copies" in str(report)
assert not gradcheck(BrokenSoftplus.apply, x32, raise_exception=False)"""),
    (M, """## Which op is wrong? A broken op inside a small CNN

When the check of a whole model fails, `gradcheck` replays the recorded graph and checks every op
by itself at the inputs it saw. The report names the first op that fails -- its registered name,
its input shapes, the line that created it -- and the error carries the graph node, so the drawing
can show it. Fast mode (random projections) keeps this quick."""),
    (C, """import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import manual_seed, nn, viz


class SmallCNN(nn.Module):
    def __init__(self, activation):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 4 * 4, 3)
        self.activation = activation

    def forward(self, x):
        x = self.activation(self.conv(x))
        x = F.max_pool2d(x, 2)
        return self.fc(x.flatten(1))

images = Tensor(np.random.default_rng(2).standard_normal((2, 1, 8, 8)), requires_grad=True)
labels = np.array([0, 2])

def check(activation):
    manual_seed(0)
    model = SmallCNN(activation).double()
    def loss(images, *params):                   # params: checked, used through the model
        return F.cross_entropy(model(images), labels)
    return gradcheck(loss, (images, *model.parameters()), fast_mode=True)

assert check(Softplus.apply)                     # the right activation passes
try:
    check(BrokenSoftplus.apply)
except GradcheckError as err:
    found = err
print("\\n".join(str(found).splitlines()[:18]))
assert found.node.name == "broken_softplus"
assert "(inputs (2, 4, 8, 8) float64)" in str(found)"""),
    (C, """# the culprit, highlighted in the graph of the replayed model
viz.draw(*found.report.outputs, highlight=found.node)"""),
    (M, """## The Taylor test: no step size, no tolerance

`method="taylor"` perturbs along a random direction v and watches the remainder
`|f(x + h·v) - f(x) - h·J·v|` as h halves: it shrinks as h² when the VJP is right and only as h
when it is wrong. The report gives the observed order -- a verdict with no eps or atol to tune.
(It is the check for smooth functions: a relu network has kinks within reach of any h.)"""),
    (C, """good = check_grads(lambda t: Softplus.apply(t).sum(), x, method="taylor")
print(good)
assert good.ok and abs(good.orders[0] - 2) < 0.2

bad = check_grads(lambda t: BrokenSoftplus.apply(t).sum(), x, method="taylor")
print("\\n".join(str(bad).splitlines()[:21]))
assert not bad.ok and abs(bad.orders[0] - 1) < 0.2"""),
    (M, """## A test kit for your op

`tinygrad_cnn.testing.check_function` draws inputs with Hypothesis (any shape, dtype, or
non-contiguous views; values kept off kinks with `away_from`, ties with `distinct`), runs
`gradcheck`, `gradgradcheck` and, given PyTorch's counterpart, compares values and gradients with
it. A failure is shrunk to the smallest case and comes with the seed that reproduces it -- here
an op whose slip shows only from the fourth element on is shrunk to four elements."""),
    (C, """from tinygrad_cnn.testing import CheckFunctionError, check_function, dtypes, shapes

try:
    import torch
    torch_softplus = torch.nn.functional.softplus
except ImportError:
    torch_softplus = None

check_function(Softplus.apply, shapes=[shapes(max_dims=3)], torch_fn=torch_softplus,
               dtype=dtypes(), views=None, seed=0)
print("Softplus passes check_function")


class SlipFromTheFourth(Function):
    \"\"\"An indexing slip: the gradient is 10% off from the fourth element on.\"\"\"
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x)
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        scale = np.ones(x.shape)
        scale.reshape(-1)[3:] = 1.1
        return grad * x.sigmoid() * Tensor(scale)

try:
    check_function(SlipFromTheFourth.apply, shapes=[shapes(max_dims=3)], seed=0)
except CheckFunctionError as err:
    shrunk = str(err)
print(shrunk)
four = ("input 0: shape (4,), float64\\n", "input 0: shape (2, 2), float64\\n")
assert any(s in shrunk for s in four) and "seed=0" in shrunk  # four elements, either way"""),
    (M, """In your own test suite, the pytest plugin that comes with the package gives a `gradcheck`
fixture (quick by default; `pytest --gradcheck-thorough` checks whole Jacobians, adds the Taylor
test and draws 100 examples):

```python
def test_softplus(gradcheck):
    gradcheck(Softplus.apply, Tensor(np.random.randn(3, 4), requires_grad=True))
    gradcheck.function(Softplus.apply, shapes=[(3, 4)], torch_fn=torch.nn.functional.softplus)
```"""),
]

NB4 = [
    (M, """# 4 · LeNet-5 on MNIST

A short run -- 12,000 training images, two epochs -- on the real MNIST files that ship in
`data/mnist/`, then what the network learned and where it still errs. (`python -m tinygrad_cnn
train` runs the full version.)"""),
    (C, """import time

import matplotlib.pyplot as plt
import numpy as np

import tinygrad_cnn as tg
from tinygrad_cnn import optim
from tinygrad_cnn.data import MNIST, DataLoader, Subset
from tinygrad_cnn.models import LeNet5
from tinygrad_cnn.training import evaluate, predict, train_epoch

tg.manual_seed(0)
train_set, test_set = MNIST(train=True), MNIST(train=False)
print(train_set, test_set)
model = LeNet5()
opt = optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
train_loader = DataLoader(Subset(train_set, np.arange(12000)), batch_size=64, shuffle=True, seed=0)
test_loader = DataLoader(test_set, batch_size=1000)"""),
    (C, """losses, accuracies = [], []
start = time.perf_counter()
for epoch in range(2):
    train_epoch(model, train_loader, opt, on_step=lambda i, n, loss, rate: losses.append(loss))
    accuracies.append(evaluate(model, test_loader))
    print(f"epoch {epoch + 1}: test accuracy {accuracies[-1]:.4f}")
print(f"{time.perf_counter() - start:.1f} s")
assert accuracies[-1] > 0.95"""),
    (C, """fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3))
ax1.plot(np.arange(1, len(losses) + 1), losses)
ax1.set(xlabel="step", ylabel="mean loss of the epoch so far", title="loss")  # (restarts each epoch)
ax2.plot([1, 2], accuracies, marker="o")
ax2.set(xlabel="epoch", ylabel="test accuracy", title="accuracy", xticks=[1, 2])
fig.tight_layout()"""),
    (M, """## Where it errs

The first 24 misclassified test digits, with the prediction and (in brackets) the label."""),
    (C, """pred, true = predict(model, test_loader)
wrong = np.flatnonzero(pred != true)
print(f"{len(wrong)} of {len(true)} test digits are misclassified")
fig, axes = plt.subplots(3, 8, figsize=(9, 3.8))
for ax, i in zip(axes.flat, wrong):
    ax.imshow(test_set.images[i], cmap="gray_r")
    ax.set_title(f"{pred[i]} ({true[i]})", fontsize=9)
    ax.axis("off")
fig.tight_layout()"""),
    (M, """## What the filters learned

`viz.filters(layer)` draws a convolution's kernels on one colour scale centred at zero (red
positive, blue negative): the six 5×5 filters of `conv1` are edge and stroke detectors; `conv2`'s
sixteen filters each combine the six maps of `conv1` (one row per input channel)."""),
    (C, """from tinygrad_cnn import viz

fig = viz.filters(model.conv1)
w = model.conv1.weight.numpy()
np.testing.assert_array_equal(fig.axes[3].get_images()[0].get_array(), w[3, 0])"""),
    (C, """fig = viz.filters(model.conv2, max_channels=6)"""),
    (M, """## What the network sees

`viz.feature_maps(model, x)` runs the model once and shows every image-shaped tensor its forward
made, for one digit: the convolutions' outputs, after ReLU, after pooling -- labelled by module and
op."""),
    (C, """image, label = test_set[0]
maps = viz.feature_map_arrays(model, image)
print([name for name, _ in maps])
assert [m.shape for _, m in maps][-1] == (16, 5, 5)
fig = viz.feature_maps(model, image, max_channels=8)"""),
    (M, """## Which pixels matter

`viz.saliency(model, x, target)` is the gradient of the target class's logit with respect to the
input pixels, `|∂ logit[target] / ∂ x|` -- one backward pass through LeNet-5 to its input. The
pixels that move the score most lie on and around the strokes of the digit."""),
    (C, """for i in (0, 1, 2):
    image, label = test_set[i]
    sal = viz.saliency_map(model, image, target=int(label))
    ink = image[0] > image[0].mean()  # the digit's strokes
    print(f"digit {label}: mean saliency on the strokes {sal[ink].mean():.4f}, elsewhere {sal[~ink].mean():.4f}")
    assert sal[ink].mean() > sal[~ink].mean()
fig = viz.saliency(model, test_set[0][0], target=int(test_set[0][1]))"""),
]

NB5 = [
    (M, """# 5 · A ResNet from the parts

LeNet-5 is a stack of convolutions. A modern CNN adds three things: **normalisation** (BatchNorm
after every convolution), **residual connections** (each block adds its input to its output, so a
gradient has a short path back to the early layers) and **global average pooling** before the
head (so the network does not care about the image size). Here we build ResNet-8 from
`tinygrad_cnn.nn`'s parts, look at its backward graph block by block, train it for 120
steps with a one-cycle schedule, and check that BatchNorm does in eval mode what it did in
training. (`python -m tinygrad_cnn train --model resnet8` trains the full version.)"""),
    (C, """import matplotlib.pyplot as plt
import numpy as np

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, nn, optim
from tinygrad_cnn.data import MNIST, DataLoader, Subset
from tinygrad_cnn.models import resnet8
from tinygrad_cnn.training import evaluate
from tinygrad_cnn.viz import draw"""),
    (M, """## The block

A `BasicBlock` is two 3×3 convolutions, each followed by BatchNorm, with a ReLU between them and
one after the sum. When the block halves the resolution (stride 2) or widens the channels, the
shortcut cannot be the identity: it becomes a strided 1×1 convolution and its own BatchNorm
(`downsample`)."""),
    (C, """class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + shortcut)


class ResNet8(nn.Module):
    \"\"\"(N, 1, 28, 28) -> 16 x 28x28 -> 16 x 28x28 -> 32 x 14x14 -> 64 x 7x7 -> pool -> 10\"\"\"
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16)
        self.layer1 = nn.Sequential(BasicBlock(16, 16))
        self.layer2 = nn.Sequential(BasicBlock(16, 32, stride=2))
        self.layer3 = nn.Sequential(BasicBlock(32, 64, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.avgpool(x).flatten(1))


tg.manual_seed(0)
model = ResNet8()
for name, stage in [("stem", [model.conv1, model.bn1]), ("layer1", [model.layer1]),
                    ("layer2", [model.layer2]), ("layer3", [model.layer3]), ("head", [model.fc])]:
    print(f"{name:7s} {sum(p.numel() for m in stage for p in m.parameters()):6,d} parameters")
print(f"total   {sum(p.numel() for p in model.parameters()):6,d}")
# the same names, shapes and buffers as the packaged model (and as a PyTorch ResNet written alike)
reference = resnet8()
assert [(k, v.shape) for k, v in model.state_dict().items()] == \\
    [(k, v.shape) for k, v in reference.state_dict().items()]
model.layer2[0]"""),
    (M, """## Its backward graph, block by block

One forward and backward pass on a batch of digits, recorded (`viz.record_gradients`) so that
the drawing colours every VJP by the norm of its gradient. Each `BatchNorm2d` is one op,
`batch_norm` (subtract the batch mean, divide by the batch standard deviation, then the learned
scale and shift -- one node, as PyTorch's), so a block is 7 to 9 VJPs; `max_nodes=30` folds
each block into one
box that lists them, its `add` among them: the `add` is where the shortcut's gradient joins the
convolutions' (the one identity shortcut, in `layer1`, passes it on unchanged; the strided blocks'
shortcuts are 1×1 convolutions). `expand=[\"layer1.0\"]` would open a block to show it."""),
    (C, """from tinygrad_cnn.autograd import _collect
from tinygrad_cnn.viz import record_gradients

train_set, test_set = MNIST(train=True), MNIST(train=False)
x, y = train_set.arrays(np.arange(8))
images = Tensor(x, name="images")
loss = F.cross_entropy(model(images), y)
loss.name = "loss"
with record_gradients(loss):
    loss.backward()
ops = [node.fn.name for node in _collect([loss.grad_fn])]
for op in ("conv2d", "batch_norm", "relu", "add", "adaptive_avg_pool2d"):
    print(f"{op:20s} {ops.count(op):2d} ops")
graph = draw(loss, backward=True, max_nodes=30)
assert graph.source.count("VJPs of") == 3  # layer1.0, layer2.0, layer3.0: one box per block
graph"""),
    (M, """A deeper network shows what the boxes are for: ResNet-20 has three blocks per stage, and
runs of identical blocks are drawn as one box marked ×N (the first block of stages 2 and 3
differs: it strides and has a `downsample` shortcut)."""),
    (C, """from tinygrad_cnn.models import ResNet

resnet20 = ResNet(blocks=(3, 3, 3))
loss20 = F.cross_entropy(resnet20(images), y)
loss20.backward()
print(f"ResNet-20: {sum(p.numel() for p in resnet20.parameters()):,} parameters, "
      f"{len(_collect([loss20.grad_fn]))} ops")
draw(loss20, backward=True)"""),
    (M, """## Training, with a one-cycle schedule

`OneCycleLR` raises the learning rate from `max_lr / 25` to `max_lr` over the first 30% of the
steps and anneals it to almost zero, while it moves SGD's momentum the opposite way (0.95 to 0.85
and back). It is stepped once per batch."""),
    (C, """tg.manual_seed(0)
model = ResNet8()
steps = 120
loader = DataLoader(Subset(train_set, np.arange(steps * 64)), batch_size=64, shuffle=True, seed=0)
opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
schedule = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=steps)
losses, lrs, momenta = [], [], []
model.train()
for x, y in loader:
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
    opt.step()
    lrs.append(opt.param_groups[0]["lr"])
    momenta.append(opt.param_groups[0]["momentum"])
    schedule.step()
    losses.append(loss.item())
test_loader = DataLoader(Subset(test_set, np.arange(2000)), batch_size=500)
accuracy = evaluate(model, test_loader)
print(f"after {steps} steps: training loss {np.mean(losses[-20:]):.3f}, "
      f"test accuracy {accuracy:.4f} (first 2000 test digits)")
assert accuracy > 0.9

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3))
ax1.plot(losses)
ax1.set(xlabel="step", ylabel="loss", yscale="log", title="training loss")
ax2.plot(lrs, label="learning rate")
ax2.plot(np.array(momenta) / 5, label="momentum / 5")
ax2.set(xlabel="step", title="OneCycleLR")
ax2.legend()
fig.tight_layout()"""),
    (M, """## BatchNorm in training and in eval mode

While training, BatchNorm normalises with the statistics of the batch in hand and keeps running
averages of them (`momentum=0.1`); in eval mode it uses those running averages, so a prediction
does not depend on what else is in the batch. Over the training set the two agree closely --
which is what the running averages are for."""),
    (C, """import copy

bn = model.layer3[0].bn2
print("running mean of layer3.0.bn2 (first 6 channels):", np.round(bn.running_mean.numpy()[:6], 3))
print("running var  of layer3.0.bn2 (first 6 channels):", np.round(bn.running_var.numpy()[:6], 3))
x, y = train_set.arrays(np.arange(1000, 1500))
with tg.no_grad():
    model.eval()
    eval_logits = model(Tensor(x)).numpy()
    single = model(Tensor(x[:1])).numpy()  # eval mode: one image alone gives the same logits
    probe = copy.deepcopy(model).train()  # (a copy: in train mode a forward updates the
    train_logits = probe(Tensor(x)).numpy()  # running averages, even under no_grad)
agree = (eval_logits.argmax(1) == train_logits.argmax(1)).mean()
print(f"eval-mode and batch-statistics predictions agree on {agree:.1%} of 500 training digits")
assert np.allclose(single, eval_logits[:1], atol=1e-4) and agree > 0.95"""),
]

NOTEBOOKS = {
    "01_cnn_by_hand.ipynb": NB1,
    "02_backward_graph.ipynb": NB2,
    "03_gradcheck.ipynb": NB3,
    "04_lenet_mnist.ipynb": NB4,
    "05_resnet.ipynb": NB5,
}


def build(name: str, cells: list[tuple[str, str]]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, source in cells:
        nb.cells.append(nbformat.v4.new_markdown_cell(source) if kind == M
                        else nbformat.v4.new_code_cell(source))
    for i, cell in enumerate(nb.cells):  # stable ids: rebuilding changes nothing that did not
        cell["id"] = f"{Path(name).stem[:2]}-{i:02d}"
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(HERE)}}).execute()
    for cell in nb.cells:  # keep the files stable: no run times in the metadata
        cell.metadata.pop("execution", None)
    path = HERE / name
    nbformat.write(nb, path)
    return path


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    wanted = sys.argv[1:]
    for name, cells in NOTEBOOKS.items():
        if not wanted or any(w in name for w in wanted):
            path = build(name, cells)
            print(f"wrote {path.relative_to(HERE.parent)} ({path.stat().st_size / 1024:.0f} KB)")
