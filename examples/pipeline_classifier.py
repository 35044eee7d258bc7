"""AdvisorClassifier inside a scikit-learn Pipeline, scored with cross-validation.

    python examples/pipeline_classifier.py
"""

from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from advisor import AdvisorClassifier, datasets


def add_power_to_weight(frame):
    return frame.assign(power_to_weight=frame["horsepower"] / frame["weight_lbs"])


def main():
    cars = datasets.load("cars")
    X, y = cars.drop(columns=["origin", "name"]), cars["origin"]
    pipe = make_pipeline(
        FunctionTransformer(add_power_to_weight),
        AdvisorClassifier(budget=5, families="linear,hist_gradient_boosting"),
    )
    scores = cross_val_score(pipe, X, y, cv=3)
    print(f"cross-validated accuracy: {scores.mean():.3f} ± {scores.std():.3f}")
    pipe.fit(X, y)
    advisor_step = pipe[-1]
    print(f"recommended on all rows: {advisor_step.best_family_}")
    for line in advisor_step.recommendation_.rationale:
        print(" -", line)


if __name__ == "__main__":
    main()
