"""Class labels for the classifiers: scikit-learn's LabelBinarizer, its checks of
``classes`` and ``warm_start``, and labels back from the engine's outputs."""
from __future__ import annotations

import numpy as np
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels


def _plain_labels(y):
    """For a 1-D array of int or str labels -- the common case -- what scikit-learn's
    ``LabelBinarizer().fit(y)`` and its ``transform(y).astype(float64)`` give (the same
    fitted attributes, classes and 0/1 matrix), without its generic target analysis; None
    for any other y (the caller takes scikit-learn's path)."""
    if type(y) is not np.ndarray or y.ndim != 1 or y.dtype.kind not in "iuU" or not len(y):
        return None
    labels = np.unique(y)
    if y.dtype.kind == "U":          # unique_labels' dtype: as wide as the longest label
        labels = np.asarray(labels.tolist())
    lb = LabelBinarizer()
    lb.y_type_ = "multiclass" if len(labels) > 2 else "binary"
    lb.sparse_input_ = False
    lb.classes_ = labels
    n = len(y)
    if len(labels) > 2:
        Y = np.zeros((n, len(labels)))
        Y[np.arange(n), np.searchsorted(labels, y)] = 1.0
    elif len(labels) == 2:
        Y = (y == labels[1]).astype(np.float64).reshape(n, 1)
    else:
        Y = np.zeros((n, 1))
    return lb, Y


class LabelEncoding:
    """Mixin of the classifiers: ``_validate_y`` (labels -> 0/1 indicator matrix),
    ``_decode_targets`` and ``_predict_net`` (labels from the network's outputs)."""

    def _validate_y(self, y, incremental, first, classes=None):
        """scikit-learn's rules: a fit (or the first partial_fit) defines ``classes_`` (from
        ``classes`` on the first partial_fit, from y otherwise); later calls check y
        against them."""
        if first and not incremental:
            fast = _plain_labels(y)
            if fast is not None:
                self._label_binarizer, Y = fast
                self.classes_ = self._label_binarizer.classes_
                return Y
        check_classification_targets(y)
        if first:
            self._label_binarizer = LabelBinarizer()
            if incremental and not type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(classes)
            else:
                self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        if not first or incremental:
            labels = unique_labels(y)
            if self.warm_start and not incremental:
                if set(labels) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {self.classes_}, `y` has "
                        f"{labels}")
            elif len(np.setdiff1d(labels, self.classes_, assume_unique=True)):
                raise ValueError("`y` has classes not in `self.classes_`. `self.classes_` has "
                                 f"{self.classes_}. 'y' has {labels}.")
        return self._label_binarizer.transform(y).astype(np.float64)

    def _decode_targets(self, Yt, plan):
        """The engine's targets (0/1 or +-1 indicators) back to labels."""
        ind = (Yt > 0).astype(np.int64)
        if plan.sizes[-1] == 2 and self._label_binarizer.y_type_ == "binary":
            ind = ind[:, 1:]
        return self._label_binarizer.inverse_transform(ind)

    def _stratify_labels(self, Y):
        # as scikit-learn: stratified validation split for a binary problem only
        return Y if self._label_binarizer.y_type_ == "binary" else None

    def _predict_net(self, net, X):
        out = self._output(X, net)
        lb = self._label_binarizer
        if net.plan.sizes[-1] == 2 and len(self.classes_) <= 2 and lb.y_type_ == "binary":
            return lb.inverse_transform((out[:, 1] > out[:, 0]).astype(np.int64)[:, None])
        if lb.y_type_ == "multiclass":
            return lb.inverse_transform(out)
        thr = 0.5 if net.plan.acts[-1] == "softmax" else 0.0
        return lb.inverse_transform((out > thr).astype(np.int64))


    def _check_partial_classes(self, y, classes):
        """partial_fit: ``classes`` is required on the first call and fixed afterwards."""
        if not hasattr(self, "classes_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
        elif classes is not None and not np.array_equal(unique_labels(classes),
                                                        self.classes_):
            raise ValueError(f"`classes={classes!r}` is not the same as on last call to "
                             f"partial_fit, was: {self.classes_!r}")
