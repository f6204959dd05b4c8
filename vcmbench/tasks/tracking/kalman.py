"""The JDE tracker's Kalman filter: 8-d constant velocity over ``(x, y, a, h)`` (box centre, aspect
ratio w/h, height) and their velocities, observed directly (linear observation of the first four).

Source of every number: Towards-Realtime-MOT @c2654cdd ``utils/kalman_filter.py`` (the Deep SORT
filter), the commit CompressAI-Vision @31165daf ``scripts/install.sh`` installs for its
``jde_1088x608`` wrapper:

* dt = 1 frame; noise standard deviations relative to the box height h: position weight 1/20,
  velocity weight 1/160.  Initiation: std ``[2/20 h, 2/20 h, 1e-2, 2/20 h, 10/160 h, 10/160 h, 1e-5,
  10/160 h]``; process noise ``[h/20, h/20, 1e-2, h/20, h/160, h/160, 1e-5, h/160]``; measurement noise
  ``[h/20, h/20, 1e-1, h/20]`` (h of the state mean).
* Gating: squared Mahalanobis distance against the 0.95 quantile of chi-square (``CHI2INV95``; 4
  degrees of freedom for ``(x, y, a, h)``, 2 for position only).

Numerics follow the reference as it runs in the committee's environment (NumPy 1.x, whose
value-based casting turns ``float * float32 scalar`` into float64): the noise terms are float64 even
when the state mean is still the float32 measurement a new track starts from (``initiate`` keeps the
measurement's dtype for the mean, as the reference does); everything after the first update is float64.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

# 0.95 quantile of the chi-square distribution with N degrees of freedom (MATLAB chi2inv values, as
# the reference's table).
CHI2INV95 = {1: 3.8415, 2: 5.9915, 3: 7.8147, 4: 9.4877, 5: 11.070, 6: 12.592, 7: 14.067, 8: 15.507, 9: 16.919}

STD_WEIGHT_POSITION = 1.0 / 20
STD_WEIGHT_VELOCITY = 1.0 / 160


class KalmanFilter:
    """Constant-velocity Kalman filter in ``(x, y, a, h, vx, vy, va, vh)`` (module docstring)."""

    def __init__(self) -> None:
        ndim, dt = 4, 1.0
        self._motion_mat = np.eye(2 * ndim, 2 * ndim)
        for i in range(ndim):
            self._motion_mat[i, ndim + i] = dt
        self._update_mat = np.eye(ndim, 2 * ndim)
        self._std_weight_position = STD_WEIGHT_POSITION
        self._std_weight_velocity = STD_WEIGHT_VELOCITY

    def initiate(self, measurement: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean (the measurement's dtype, zero velocities) and covariance (float64) of a new track."""
        h = float(measurement[3])
        mean = np.r_[measurement, np.zeros_like(measurement)]
        std = [2 * self._std_weight_position * h, 2 * self._std_weight_position * h, 1e-2,
               2 * self._std_weight_position * h, 10 * self._std_weight_velocity * h,
               10 * self._std_weight_velocity * h, 1e-5, 10 * self._std_weight_velocity * h]
        return mean, np.diag(np.square(std))

    def multi_predict(self, mean: np.ndarray, covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Prediction step for N tracks at once: ``mean`` (N, 8), ``covariance`` (N, 8, 8)."""
        h = mean[:, 3]
        std_pos = [self._std_weight_position * h, self._std_weight_position * h, 1e-2 * np.ones_like(h),
                   self._std_weight_position * h]
        std_vel = [self._std_weight_velocity * h, self._std_weight_velocity * h, 1e-5 * np.ones_like(h),
                   self._std_weight_velocity * h]
        sqr = np.square(np.r_[std_pos, std_vel]).T
        motion_cov = np.asarray([np.diag(sqr[i]) for i in range(len(mean))])
        mean = np.dot(mean, self._motion_mat.T)
        left = np.dot(self._motion_mat, covariance).transpose((1, 0, 2))
        covariance = np.dot(left, self._motion_mat.T) + motion_cov
        return mean, covariance

    def project(self, mean: np.ndarray, covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The state distribution in measurement space (with the measurement noise added)."""
        h = float(mean[3])
        std = [self._std_weight_position * h, self._std_weight_position * h, 1e-1, self._std_weight_position * h]
        innovation_cov = np.diag(np.square(std))
        mean = np.dot(self._update_mat, mean)
        covariance = np.linalg.multi_dot((self._update_mat, covariance, self._update_mat.T))
        return mean, covariance + innovation_cov

    def update(self, mean: np.ndarray, covariance: np.ndarray, measurement: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Correction step with one ``(x, y, a, h)`` measurement (Cholesky solve, as the reference)."""
        projected_mean, projected_cov = self.project(mean, covariance)
        chol_factor, lower = scipy.linalg.cho_factor(projected_cov, lower=True, check_finite=False)
        kalman_gain = scipy.linalg.cho_solve((chol_factor, lower), np.dot(covariance, self._update_mat.T).T,
                                             check_finite=False).T
        innovation = measurement - projected_mean
        new_mean = mean + np.dot(innovation, kalman_gain.T)
        new_covariance = covariance - np.linalg.multi_dot((kalman_gain, projected_cov, kalman_gain.T))
        return new_mean, new_covariance

    def gating_distance(self, mean: np.ndarray, covariance: np.ndarray, measurements: np.ndarray,
                        only_position: bool = False) -> np.ndarray:
        """Squared Mahalanobis distance of each of N ``(x, y, a, h)`` measurements to the projected state."""
        mean, covariance = self.project(mean, covariance)
        if only_position:
            mean, covariance = mean[:2], covariance[:2, :2]
            measurements = measurements[:, :2]
        d = measurements - mean
        cholesky_factor = np.linalg.cholesky(covariance)
        z = scipy.linalg.solve_triangular(cholesky_factor, d.T, lower=True, check_finite=False, overwrite_b=True)
        return np.sum(z * z, axis=0)
