"""gradlab.teaching.gradient_checker: the second article's API, working as the article calls it."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from gradlab.teaching import gradient_checker


@pytest.fixture
def article():
    """The article's linear regression, with the fixes the lesson explains."""
    tf.random.set_seed(0)
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(units=1)])
    loss_function = keras.losses.MeanSquaredError()
    x_train = tf.random.normal(shape=(100, 1))
    y_train = 2 * x_train + 1
    return model, loss_function, x_train, y_train


def test_article_code_runs_and_gives_a_small_error(article):
    model, loss_function, x_train, y_train = article
    variable = model.trainable_variables[0]

    numerical_gradients = gradient_checker.compute_numerical_gradient(
        model, loss_function, [x_train], [y_train], variables=[variable]
    )
    analytical_gradients = gradient_checker.compute_analytical_gradient(
        model, loss_function, [x_train], [y_train], variables=[variable]
    )
    error = gradient_checker.compute_gradient_error(numerical_gradients, analytical_gradients)

    assert error < 1e-6


def test_gradients_match_the_tape_and_leave_the_variables_unchanged(article):
    model, loss_function, x_train, y_train = article
    before = [v.numpy().copy() for v in model.trainable_variables]
    with tf.GradientTape() as tape:
        loss = loss_function(y_train, model(x_train))
    expected = tape.gradient(loss, model.trainable_variables)

    numerical = gradient_checker.compute_numerical_gradient(
        model, loss_function, [x_train], [y_train]
    )
    analytical = gradient_checker.compute_analytical_gradient(
        model, loss_function, [x_train], [y_train]
    )

    for got, want in zip(numerical + analytical, expected + expected, strict=True):
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-5)
    for variable, value in zip(model.trainable_variables, before, strict=True):
        np.testing.assert_array_equal(variable.numpy(), value)


def test_gradient_error_of_a_perturbed_gradient_is_large(article):
    model, loss_function, x_train, y_train = article
    analytical = gradient_checker.compute_analytical_gradient(
        model, loss_function, [x_train], [y_train]
    )
    ten_percent_off = [gradient * 1.1 for gradient in analytical]

    error = gradient_checker.compute_gradient_error(ten_percent_off, analytical)

    assert error == pytest.approx(0.1 / 1.1)


def test_a_variable_from_another_model_is_refused(article):
    model, loss_function, x_train, y_train = article
    stranger = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(units=1)])

    with pytest.raises(ValueError, match="not one of the model's trainable variables"):
        gradient_checker.compute_numerical_gradient(
            model,
            loss_function,
            [x_train],
            [y_train],
            variables=[stranger.trainable_variables[0]],
        )
