"""Image data sets (§5.1, §5.2): whole-tensor loading through torchvision."""
