"""The errors in the two source articles, each reproduced when the site is built.

Every :class:`Erratum` holds the article's words or code, the code that
reproduces its error today, and the corrected code. :func:`notebook` turns
them into one notebook that the build executes like a lesson; :func:`render`
writes the errata page from what that run printed. The messages on the page
are therefore the ones this TensorFlow and Keras raise, never copied by hand,
and a build in which an erratum no longer reproduces (its ``expect`` text is
missing from the output) fails.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

import nbformat
from nbformat import NotebookNode

FIRST = "Article 1, *tensorflow 查看梯度方式* (“ways to see gradients in TensorFlow”)"
SECOND = "Article 2, *使用gradient_checker模块验证TensorFlow中的梯度计算* (“verifying gradients with the gradient_checker module”)"  # noqa: E501


@dataclass(frozen=True)
class Attempt:
    """Code run at build time; the page shows ``shown`` (default: the code) and its output."""

    code: str
    shown: str | None = None
    language: str = "python"
    caption: str = ""
    """A sentence the page prints before this attempt's code (none: the code follows on)."""

    @property
    def display(self) -> str:
        return textwrap.dedent(self.shown if self.shown is not None else self.code).strip()


@dataclass(frozen=True)
class Erratum:
    """One error in a source article, how it fails today, and the fix."""

    key: str
    title: str
    article: str
    quote: str
    """The article's words or code, as published."""
    quote_language: str
    lesson: int
    """The lesson that teaches the fix."""
    explanation: str
    reproduce: tuple[Attempt, ...] = ()
    expect: tuple[str, ...] = ()
    """Text each reproduction must print (the error it raises), in order."""
    fix: str = ""
    fixed: Attempt | None = None
    fixed_runs: bool = True
    fixed_expect: str = ""
    """Text the corrected code must print."""
    notes: tuple[str, ...] = field(default=())


SETUP = """\
import gradlab

gradlab.quiet_tensorflow()  # first: keeps TensorFlow's start-up noise out of the output

# isort: split
import os
import subprocess
import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(0)
_SETUP_NAMES = set(globals())
"""

# Each erratum starts from the setup's names only, as if it ran alone.
FORGET = """\
for _name in [name for name in globals() if not name.startswith("_")]:
    if _name not in _SETUP_NAMES:
        del globals()[_name]
keras.utils.set_random_seed(0)
"""

ERRATA: tuple[Erratum, ...] = (
    Erratum(
        key="tape-initial-value",
        title="The tape does not give `x` its value",
        article=FIRST + ", section 1",
        quote="先使用 with 语句创建一个梯度操作的类型对象,并给这个上下文中的变量 x 赋初值 3.0。",
        quote_language="text",
        lesson=1,
        explanation=(
            "The article says the `with` block “gives the variable x its initial value 3.0 "
            "inside the context”. It does not: `x` got its value when `tf.Variable(3.0)` ran, "
            "before the tape existed. The tape only records the operations run inside the "
            "block, and `tape.gradient(y, x)` plays that record backwards. The code itself "
            "is right and prints 18.0."
        ),
    ),
    Erratum(
        key="eager-tf-gradients",
        title="`tf.gradients` in eager mode",
        article=FIRST + ", section 2",
        quote="""\
x = tf.Variable(3.0)

def f_x(x):
    return 3 * x ** 2

dy_dx = tf.gradients(f_x(x), x)
print(dy_dx[0].numpy())  # 输出 18.0""",
        quote_language="python",
        lesson=2,
        explanation=(
            "The article says this prints 18.0. In TensorFlow 2 code runs eagerly, and "
            "`tf.gradients` works only while a graph is being built:"
        ),
        reproduce=(
            Attempt(
                """\
                x = tf.Variable(3.0)

                def f_x(x):
                    return 3 * x**2

                dy_dx = tf.gradients(f_x(x), x)
                print(dy_dx[0].numpy())
                """
            ),
        ),
        expect=("RuntimeError: tf.gradients is not supported when eager execution is enabled.",),
        fix="Call it where a graph is traced, inside `tf.function` (or use `tf.GradientTape`):",
        fixed=Attempt(
            """\
            x = tf.Variable(3.0)

            def f_x(x):
                return 3 * x**2

            @tf.function
            def slope(x):
                return tf.gradients(f_x(x), x)[0]

            print(slope(x).numpy())
            """
        ),
        fixed_expect="18.0",
    ),
    Erratum(
        key="tape-any-tensor",
        title="`tape.gradient` does not differentiate any tensor",
        article=FIRST + ", section 1",
        quote="tape.gradient() 对于包括变量在内的 Tensor 变量自动求导",
        quote_language="text",
        lesson=1,
        explanation=(
            "The article says `tape.gradient()` differentiates with respect to tensors, "
            "variables included, automatically. Only trainable variables are watched "
            "automatically. With respect to a constant, or any other tensor, the same code "
            "gives no gradient at all, `None`, until the tensor is watched (inside the block, "
            "before the operations that use it):"
        ),
        fix="",
        fixed=Attempt(
            """\
            x = tf.constant(3.0)
            with tf.GradientTape() as tape:
                y = 3 * x**2
            unwatched = tape.gradient(y, x)

            with tf.GradientTape() as tape:
                tape.watch(x)
                y = 3 * x**2
            print("not watched:", unwatched, "  watched:", tape.gradient(y, x).numpy())
            """
        ),
        fixed_expect="not watched: None   watched: 18.0",
    ),
    Erratum(
        key="summary-filewriter",
        title="`tf.summary.FileWriter`",
        article=FIRST + ", section 3",
        quote="在 tf.summary.FileWriter() 中创建一个事件文件夹(event folder)。",
        quote_language="text",
        lesson=3,
        explanation=(
            "The article's steps start with `tf.summary.FileWriter()`. That is TensorFlow 1; "
            "TensorFlow 2 has no such name, and the `compat.v1` one refuses eager mode:"
        ),
        reproduce=(
            Attempt('writer = tf.summary.FileWriter("logs")'),
            Attempt('writer = tf.compat.v1.summary.FileWriter("logs")'),
        ),
        expect=(
            "AttributeError: module 'tensorflow._api.v2.summary' has no attribute 'FileWriter'",
            "RuntimeError: v1.summary.FileWriter is not compatible with eager execution.",
        ),
        fix=(
            "Make a writer with `tf.summary.create_file_writer`, write *inside* "
            "`writer.as_default()` with a step, and flush. (The article's code does use "
            "`create_file_writer`; only its instructions are wrong.) Reading the log back "
            "proves it was written:"
        ),
        fixed=Attempt(
            """\
            logdir = "logs"
            writer = tf.summary.create_file_writer(logdir)
            x = tf.Variable(3.0)
            with writer.as_default():
                with tf.GradientTape() as tape:
                    y = 3 * x**2
                tf.summary.scalar("grads", tape.gradient(y, x), step=0)
            writer.flush()

            from gradlab.tensorboard import read_scalars

            series = read_scalars(logdir, run=".")["grads"]
            print("step", series.steps.tolist(), "value", series.values.tolist())
            """
        ),
        fixed_expect="value [18.0]",
    ),
    Erratum(
        key="tensorboard-logdir",
        title="`tensorboard --logdir=len(logdir)`",
        article=FIRST + ", section 3",
        quote="""\
# 在Python脚本中使用:os.system('tensorboard --logdir=len(logdir)')
# 在命令控制台中使用:tensorboard --logdir=len(logdir)""",
        quote_language="python",
        lesson=3,
        explanation=(
            "`len(logdir)` is Python inside a shell command: the shell never runs TensorBoard, "
            "it stops at the parenthesis. In a terminal (bash), and through `os.system` "
            "(which runs `/bin/sh`; this is its message on this machine):"
        ),
        reproduce=(
            Attempt(
                """\
                result = subprocess.run(
                    ["bash", "-c", "tensorboard --logdir=len(logdir)"],
                    capture_output=True, text=True,
                )
                print(result.stderr.strip())
                """,
                shown="tensorboard --logdir=len(logdir)",
                language="bash",
            ),
            Attempt(
                """\
                result = subprocess.run(
                    ["/bin/sh", "-c", "tensorboard --logdir=len(logdir)"],
                    capture_output=True, text=True,
                )
                print(result.stderr.strip())
                """,
                shown="os.system('tensorboard --logdir=len(logdir)')",
            ),
        ),
        expect=("syntax error near unexpected token `('", "rror"),
        fix=(
            "Pass the folder itself. In Jupyter the magic needs loading first; from Python, "
            "`gradlab.tensorboard.start_tensorboard` starts a real TensorBoard and says "
            "where it listens:"
        ),
        fixed=Attempt(
            """\
            tensorboard --logdir logs                      # a terminal

            %load_ext tensorboard                          # Jupyter
            %tensorboard --logdir logs

            from gradlab.tensorboard import start_tensorboard
            server = start_tensorboard("logs")             # Python
            print(server.url)""",
            language="bash",
        ),
        fixed_runs=False,
    ),
    Erratum(
        key="unique-variable-names",
        title="“All variable names must be unique”",
        article=FIRST + ", section 3",
        quote="在使用 TensorBoard 时,我们需要保证所有变量的名字都唯一,以防止所记录下来的东西与我们的意图不一致。",  # noqa: E501
        quote_language="text",
        lesson=3,
        explanation=(
            "The article warns that with TensorBoard all variable names must be unique. In "
            "TensorFlow 2 a variable's name plays no part in a log: two variables may share "
            "one (no error, no renaming), and what TensorBoard groups by is the summary's "
            "**tag**. Two series logged under one tag end up as one mixed series, whatever "
            "the variables are called:"
        ),
        reproduce=(
            Attempt(
                """\
                from gradlab.tensorboard import read_scalars

                a, b = tf.Variable(3.0, name="x"), tf.Variable(-1.0, name="x")
                print("names:", a.name, b.name)
                writer = tf.summary.create_file_writer("same-tag")
                with writer.as_default():
                    for step in range(2):
                        tf.summary.scalar("grads", 2 * a, step=step)
                        tf.summary.scalar("grads", 2 * b, step=step)
                writer.flush()
                series = read_scalars("same-tag", run=".")["grads"]
                print("tag 'grads': steps", series.steps.tolist(), "values",
                      series.values.tolist())
                """
            ),
        ),
        expect=("steps [0, 0, 1, 1]",),
        fix="Give each series its own tag (lesson 3 builds tags from `variable.path`):",
        fixed=Attempt(
            """\
            from gradlab.tensorboard import read_scalars

            a, b = tf.Variable(3.0, name="x"), tf.Variable(-1.0, name="x")
            writer = tf.summary.create_file_writer("own-tags")
            with writer.as_default():
                for step in range(2):
                    tf.summary.scalar("grads/a", 2 * a, step=step)
                    tf.summary.scalar("grads/b", 2 * b, step=step)
            writer.flush()
            for tag, series in sorted(read_scalars("own-tags", run=".").items()):
                print(f"tag {tag!r}: steps", series.steps.tolist(),
                      "values", series.values.tolist())
            """
        ),
        fixed_expect="tag 'grads/b': steps [0, 1] values [-2.0, -2.0]",
    ),
    Erratum(
        key="gradient-checker-module",
        title="The `gradient_checker` module",
        article=SECOND,
        quote="""\
import gradient_checker
numerical_gradients = gradient_checker.compute_numerical_gradient(
    model, loss_function, [x_train], [y_train], variables=[variable])""",
        quote_language="python",
        lesson=4,
        explanation=(
            "There is no top-level `gradient_checker` to import. TensorFlow does ship one, "
            "though, and it is where the article's one real function name comes from: "
            "`tensorflow.python.ops.gradient_checker`, still in TensorFlow 2.21, with "
            "`compute_gradient` and `compute_gradient_error`. The latter is public as "
            "`tf.compat.v1.test.compute_gradient_error(x, x_shape, y, y_shape)`: deprecated, "
            "it takes tensors and their shapes (not two gradients, as the article passes), "
            "and it has neither of the article's other two functions:"
        ),
        reproduce=(
            Attempt("import gradient_checker"),
            Attempt(
                """\
                from tensorflow.python.ops import gradient_checker

                gradient_checker.compute_numerical_gradient
                """
            ),
            Attempt(
                """\
                tf.get_logger().setLevel("ERROR")  # hides the deprecation warning
                x = tf.constant([1.0, 2.0, 3.0], tf.float64)
                tf.compat.v1.test.compute_gradient_error(x, [3], x**2, [3])
                """,
                shown="""\
                x = tf.constant([1.0, 2.0, 3.0], tf.float64)
                tf.compat.v1.test.compute_gradient_error(x, [3], x**2, [3])
                """,
                caption="It is graph-only. Called eagerly, as TensorFlow 2 runs code:",
            ),
            Attempt(
                """\
                tf.get_logger().setLevel("ERROR")  # hides the deprecation warning
                with tf.Graph().as_default():
                    x = tf.constant([1.0, 2.0, 3.0], tf.float64)
                    with tf.compat.v1.Session():
                        error = tf.compat.v1.test.compute_gradient_error(x, [3], x**2, [3])
                print(f"largest error of d(x**2)/dx: {error:.1e}")
                """,
                shown="""\
                with tf.Graph().as_default():
                    x = tf.constant([1.0, 2.0, 3.0], tf.float64)
                    with tf.compat.v1.Session():
                        error = tf.compat.v1.test.compute_gradient_error(x, [3], x**2, [3])
                print(f"largest error of d(x**2)/dx: {error:.1e}")
                """,
                caption=(
                    "In a `tf.compat.v1` graph with a default session it works, and returns "
                    "the largest difference between the two Jacobians:"
                ),
            ),
        ),
        expect=(
            "ModuleNotFoundError: No module named 'gradient_checker'",
            "AttributeError: module 'tensorflow.python.ops.gradient_checker' has no "
            "attribute 'compute_numerical_gradient'",
            "AttributeError: Tensor.graph is undefined when eager execution is enabled.",
            "largest error of d(x**2)/dx: ",
        ),
        fix=(
            "`gradlab.gradient_checker` provides the article's three functions, called "
            "exactly as the article calls them, eagerly. Here is the article's program with "
            "every error on this page fixed:"
        ),
        fixed=Attempt(
            """\
            from gradlab.teaching import gradient_checker

            model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(units=1)])
            loss_function = keras.losses.MeanSquaredError()
            x_train = tf.random.normal(shape=(100, 1))
            y_train = 2 * x_train + 1

            variable = model.trainable_variables[0]
            numerical_gradients = gradient_checker.compute_numerical_gradient(
                model, loss_function, [x_train], [y_train], variables=[variable]
            )
            analytical_gradients = gradient_checker.compute_analytical_gradient(
                model, loss_function, [x_train], [y_train], variables=[variable]
            )
            error = gradient_checker.compute_gradient_error(
                numerical_gradients, analytical_gradients
            )
            print("Gradient error:", error)
            print("Gradients agree:", error < 1e-7)
            """
        ),
        fixed_expect="Gradients agree: True",
    ),
    Erratum(
        key="keras-mean-squared-error",
        title="`tf.keras.losses.mean_squared_error`",
        article=SECOND,
        quote="loss_function = tf.keras.losses.mean_squared_error",
        quote_language="python",
        lesson=4,
        explanation="With Keras 3, `tf.keras` no longer has this function:",
        reproduce=(Attempt("loss_function = tf.keras.losses.mean_squared_error"),),
        expect=(
            "AttributeError: module 'keras._tf_keras.keras.losses' has no attribute "
            "'mean_squared_error'",
        ),
        fix=(
            "Import `keras` itself and use the loss class (`keras.losses.mean_squared_error` "
            "also exists, but returns one loss per sample instead of their mean):"
        ),
        fixed=Attempt(
            """\
            loss_function = keras.losses.MeanSquaredError()
            print(loss_function([[1.0], [2.0]], [[1.5], [2.0]]).numpy())
            """
        ),
        fixed_expect="0.125",
    ),
    Erratum(
        key="loss-line-commented-out",
        title="The loss and optimizer are never defined",
        article=SECOND,
        quote=(
            "# 定义损失函数和优化器 loss_function = tf.keras.losses.mean_squared_error "
            "optimizer = tf.keras.optimizers.SGD(learning_rate=0.01)"
        ),
        quote_language="python",
        lesson=4,
        explanation=(
            "As published, the definitions of `loss_function` and `optimizer` sit on one line "
            "after a `#`, so they are a comment, and the first use fails:"
        ),
        reproduce=(
            Attempt(
                "# 定义损失函数和优化器 loss_function = tf.keras.losses.mean_squared_error "
                "optimizer = tf.keras.optimizers.SGD(learning_rate=0.01)\n"
                "loss_function",
                shown="# 定义损失函数和优化器 loss_function = ... optimizer = ...\nloss_function",
            ),
        ),
        expect=("NameError: name 'loss_function' is not defined",),
        fix="One statement per line, with Keras 3 names:",
        fixed=Attempt(
            """\
            # 定义损失函数和优化器 (define the loss and the optimizer)
            loss_function = keras.losses.MeanSquaredError()
            optimizer = keras.optimizers.SGD(learning_rate=0.01)
            print(type(loss_function).__name__, type(optimizer).__name__)
            """
        ),
        fixed_expect="MeanSquaredError SGD",
    ),
    Erratum(
        key="dense-input-shape",
        title="A (100,) input to `Dense`",
        article=SECOND,
        quote="""\
model = tf.keras.Sequential([
    tf.keras.layers.Dense(units=1, input_shape=(1,))
])
x_train = tf.random.normal(shape=(100,))
y_train = 2 * x_train + 1""",
        quote_language="python",
        lesson=4,
        explanation=(
            "`x_train` holds 100 numbers with no feature axis. The article declares its "
            "input with `input_shape=(1,)` on the layer, which Keras 3 warns against:"
        ),
        reproduce=(
            Attempt(
                """\
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    model = tf.keras.Sequential([tf.keras.layers.Dense(units=1, input_shape=(1,))])
                for warning in caught:
                    print(f"{warning.category.__name__}: {warning.message}")
                """,
                shown="model = tf.keras.Sequential([tf.keras.layers.Dense(units=1, "
                "input_shape=(1,))])",
            ),
            Attempt(
                """\
                x_train = tf.random.normal(shape=(100,))
                model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(units=1)])
                print("input", x_train.shape, "-> prediction", model(x_train).shape)
                """,
                caption=(
                    "Declared the way the warning asks, with `keras.Input`, the model still "
                    "accepts the (100,) data: Keras adds the missing axis."
                ),
            ),
            Attempt(
                """\
                x_train = tf.random.normal(shape=(100,))
                model = keras.Sequential([keras.layers.Dense(units=1)])
                model(x_train)
                """,
                caption="Only a model that declares no input at all refuses it:",
            ),
        ),
        expect=(
            "UserWarning: Do not pass an `input_shape`/`input_dim` argument to a layer.",
            "input (100,) -> prediction (100, 1)",
            "ValueError: Input 0 with name 'None' of layer 'dense",
        ),
        fix=(
            "Nor does the shape mismatch spoil the article's loss: Keras 3's losses "
            "(`MeanSquaredError`, and the `mean_squared_error` function the article meant) "
            "line the (100,) targets up with the (100, 1) prediction and compare sample with "
            "sample. Only a hand-written mean broadcasts them into a "
            "100 × 100 grid of every target against every prediction. Giving the data its "
            "feature axis, shape (100, 1), says what is meant and makes the two agree:"
        ),
        fixed=Attempt(
            """\
            x_flat = tf.random.normal(shape=(100,))
            model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(units=1)])
            y_flat = 2 * x_flat + 1
            prediction = model(x_flat)  # (100, 1)
            mse = keras.losses.MeanSquaredError()
            print(f"MeanSquaredError, (100,) targets: {float(mse(y_flat, prediction)):.5f}")
            print(f"hand-written mean, broadcast:     "
                  f"{float(tf.reduce_mean((y_flat - prediction) ** 2)):.5f}")
            x_train = x_flat[:, None]  # (100, 1)
            y_train = 2 * x_train + 1
            print(f"hand-written mean, (100, 1) data: "
                  f"{float(tf.reduce_mean((y_train - model(x_train)) ** 2)):.5f}")
            """
        ),
        fixed_expect="MeanSquaredError, (100,) targets: ",
    ),
)

_TRY = """\
try:
{body}
except Exception as error:
    print(f"{{type(error).__name__}}: {{error}}")
"""


def _cell(source: str, key: str, part: str) -> NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["erratum"] = {"key": key, "part": part}
    return cell


def notebook() -> NotebookNode:
    """One notebook that runs every reproduction (errors caught and printed) and every fix."""
    cells = [nbformat.v4.new_code_cell(SETUP)]
    for erratum in ERRATA:
        cells.append(nbformat.v4.new_code_cell(FORGET))
        for index, attempt in enumerate(erratum.reproduce):
            body = textwrap.indent(textwrap.dedent(attempt.code).strip(), "    ")
            cells.append(_cell(_TRY.format(body=body), erratum.key, f"reproduce-{index}"))
        if erratum.fixed is not None and erratum.fixed_runs:
            cells.append(_cell(textwrap.dedent(erratum.fixed.code), erratum.key, "fixed"))
    book = nbformat.v4.new_notebook(cells=cells)
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return book


def outputs(executed: NotebookNode) -> dict[tuple[str, str], str]:
    """What each reproduction and fix printed, by (erratum key, part)."""
    found = {}
    for cell in executed.cells:
        tag = cell.metadata.get("erratum")
        if tag:
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            found[(tag["key"], tag["part"])] = text.rstrip()
    return found


class ErratumNotReproduced(Exception):
    """The output of a reproduction or fix no longer says what the page claims."""


def _fenced(text: str, language: str = "") -> str:
    return f"```{language}\n{text}\n```"


def _verified(printed: str, expected: str, erratum: Erratum, what: str) -> str:
    if expected not in printed:
        raise ErratumNotReproduced(
            f"erratum {erratum.key!r}: {what} printed {printed!r}, which lacks {expected!r}"
        )
    return printed


def _kind_of(message: str) -> str | None:
    """A short name for what a reproduction raised: the exception class, or a shell error.

    None for a reproduction that ran without an error (one showing what does work).
    """
    match = re.match(r"(\w+(?:Error|Warning|Exception)):", message)
    if match:
        return f"`{match[1]}`"
    if "syntax error" in message.lower():
        return "a shell syntax error"
    return None


def render(printed: dict[tuple[str, str], str], lesson_link: Callable[[int], str]) -> str:
    """The errata as Markdown; ``lesson_link(n)`` writes a link (or name) for lesson n."""
    summary = ["| Error | Article | Raises today | Fixed in |", "|---|---|---|---|"]
    sections = []
    for erratum in ERRATA:
        if len(erratum.expect) != len(erratum.reproduce):
            raise ErratumNotReproduced(f"erratum {erratum.key!r}: one expect per reproduction")
        raised = []
        blocks = [
            f"## {erratum.title} {{#{erratum.key}}}",
            f"**{erratum.article}.** The article:",
            _fenced(erratum.quote, erratum.quote_language),
            erratum.explanation,
        ]
        for index, (attempt, expected) in enumerate(
            zip(erratum.reproduce, erratum.expect, strict=True)
        ):
            text = printed.get((erratum.key, f"reproduce-{index}"), "")
            _verified(text, expected, erratum, f"reproduction {index + 1}")
            raised.append(text.splitlines()[0] if text else "")
            if attempt.caption:
                blocks.append(attempt.caption)
            blocks += [_fenced(attempt.display, attempt.language), _fenced(text, "text")]
        if erratum.fixed is not None:
            blocks += [erratum.fix] if erratum.fix else []
            blocks.append(_fenced(erratum.fixed.display, erratum.fixed.language))
            if erratum.fixed_runs:
                text = printed.get((erratum.key, "fixed"), "")
                _verified(text, erratum.fixed_expect, erratum, "the fix")
                blocks.append(_fenced(text, "text"))
        blocks.append(f"**The lesson:** {lesson_link(erratum.lesson)}.")
        sections.append("\n\n".join(blocks))
        kinds = [kind for kind in dict.fromkeys(map(_kind_of, raised)) if kind is not None]
        what = ", then ".join(kinds) if kinds else "a wrong explanation"
        source = "1" if erratum.article.startswith(FIRST) else "2"
        summary.append(
            f"| [{erratum.title}](#{erratum.key}) | {source} | {what} | "
            f"{lesson_link(erratum.lesson)} |"
        )
    return "\n".join(summary) + "\n\n" + "\n\n".join(sections) + "\n"
