#!/usr/bin/env python3
"""Writes the SciPy-made systems the C API and Python tests solve (run from this folder).

anisotropic_2d_scipy.mtx: -eps u_xx - u_yy on a 32 x 32 grid (eps = 0.1), symmetric
positive definite, 1,024 unknowns. convection_diffusion_2d_scipy.mtx: -Lap u + c . grad u
with upwinded convection (Peclet 2 per cell), nonsymmetric, 900 unknowns. Both in
Matrix Market coordinate format as scipy.io.mmwrite writes it.
"""
import numpy as np
import scipy.io
import scipy.sparse as sp


def second_difference(n):
    return sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1])


def anisotropic(n, eps):
    i = sp.identity(n)
    return (eps * sp.kron(i, second_difference(n)) + sp.kron(second_difference(n), i)).tocsr()


def convection_diffusion(n, peclet):
    i = sp.identity(n)
    upwind = sp.diags([-np.ones(n - 1), np.ones(n)], [-1, 0])
    lap = sp.kron(i, second_difference(n)) + sp.kron(second_difference(n), i)
    conv = peclet * (sp.kron(i, upwind) + 0.5 * sp.kron(upwind, i))
    return (lap + conv).tocsr()


if __name__ == "__main__":
    scipy.io.mmwrite("anisotropic_2d_scipy.mtx", anisotropic(32, 0.1), comment="made by make_systems.py")
    scipy.io.mmwrite("convection_diffusion_2d_scipy.mtx", convection_diffusion(30, 2.0),
                     comment="made by make_systems.py")
