"""From measurements to advice: the verdict (cross-validation, bootstrap intervals, ties), the
ranking and its weights, learning curves and forecasts, the label-free embed criterion, and the
advice made before any training."""
