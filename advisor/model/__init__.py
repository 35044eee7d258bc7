"""The returned model's own parts, wrapped around the winning family's estimator: the input
cleaning, the tuned decision rules, conditional sampling, and loading a saved model safely."""
