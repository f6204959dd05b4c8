"""Feature-domain processing for feature coding (F-VCM/FCM): ``packing`` tiles, quantises and
stacks a network's feature maps into one picture and back."""
