"""Text classifiers: the seam (classifier.py) and its kinds, fine-tuning, calibration, reasons, training, scoring."""
