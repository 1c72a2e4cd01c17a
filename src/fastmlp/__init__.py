"""fastmlp: multilayer perceptrons trained by C + OpenMP kernels, in the chapter's notation."""
__version__ = "0.1.0"
