"""Vision layer: image decoding, detection, landmarks, alignment, descriptors, quality."""
