"""Benchmarks of tinygrad_cnn against PyTorch (CPU) and numpy's GEMM peak. Run: python -m benchmarks"""
