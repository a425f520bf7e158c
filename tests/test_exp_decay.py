"""exp_decay: exp where float32 is normal, exactly 0 where it would underflow."""
import torch

from rtmo_plugin.numerics import exp_decay


def test_exp_decay_matches_exp_and_zeroes_the_denormal_tail():
    exponents = torch.cat((torch.linspace(-86.9, 0, 500), torch.tensor([-87.5, -100.0, -1e4])))
    got = exp_decay(exponents)
    torch.testing.assert_close(got[:500], exponents[:500].exp(), rtol=1e-6, atol=0)
    assert torch.equal(got[500:], torch.zeros(3))
    assert (exponents.exp()[500:] < 1.2e-38).all()  # what was dropped is below float32's normals


def test_exp_decay_gradient_is_exp_where_normal():
    exponents = torch.tensor([-1.0, -50.0, -200.0], requires_grad=True)
    exp_decay(exponents).sum().backward()
    expected = torch.tensor([-1.0, -50.0]).exp()
    torch.testing.assert_close(exponents.grad, torch.cat((expected, torch.zeros(1))))
