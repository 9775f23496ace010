#!/usr/bin/env python3
"""Real Keras running the tutorial's own loop on the shared photos, timed: the third peer of

  catdog train --data ../shared/data/catsdogs --model tiny-darknet \
               --weights ../shared/weights/tiny_darknet_imagenet.h5 --epochs 10 --device cpu

The tutorial (Brownlee's cats-vs-dogs transfer learning) does it this way, with VGG16 in place of
the Tiny Darknet stand-in that is all these machines have:
  1. the pretrained base (here: Tiny Darknet from the shared model_config and weights, cut after
     leaky_re_lu_15, 14x14x128), every layer frozen;
  2. Flatten -> Dense(128, relu, he_uniform) -> Dense(1, sigmoid); SGD lr 0.001, momentum 0.9,
     binary cross-entropy;
  3. ImageDataGenerator(rescale=1/255) (the backbone's own preprocessing; the tutorial's VGG16 is
     centred instead) and flow_from_directory(target 224x224, batch 64, class_mode binary), then
     fit for 10 epochs with the test set as validation data.
There is no feature cache: every epoch decodes every photo again and runs the frozen base on it
(train and validation), which is what catdog's cache saves. tf-keras (Keras 2's API, as the
tutorial was written) from the venv of scripts/setup-peers.sh; `--threads` intra-op threads.

  .venv-peers/bin/python benchmarks/peer/keras_cpu_transfer.py [--epochs 10] [--threads 2]

Prints each epoch's Keras line, then `peer,keras_transfer,<what>,<metric>,<value>` lines.
"""
import argparse
import json
import os
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("CATDOG_SHARED", os.path.join(HERE, "..", "..", "..", "shared"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.join(SHARED, "data", "catsdogs"))
    parser.add_argument("--weights", default=os.path.join(SHARED, "weights", "tiny_darknet_imagenet.h5"))
    parser.add_argument("--config", default=os.path.join(SHARED, "weights", "tiny_darknet_imagenet.json"))
    parser.add_argument("--cut", default="leaky_re_lu_15", help="the last layer of the frozen base")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    import tf_keras as keras
    from tf_keras.preprocessing.image import ImageDataGenerator

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(args.seed)

    with open(args.config) as f:
        base = keras.models.model_from_json(json.dumps(json.load(f)))
    base.load_weights(args.weights)
    cut = keras.Model(base.input, base.get_layer(args.cut).output)
    for layer in cut.layers:
        layer.trainable = False
    x = keras.layers.Flatten()(cut.output)
    x = keras.layers.Dense(128, activation="relu", kernel_initializer="he_uniform")(x)
    out = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(cut.input, out)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.001, momentum=0.9),
                  loss="binary_crossentropy", metrics=["accuracy"])

    datagen = ImageDataGenerator(rescale=1.0 / 255.0)
    train_it = datagen.flow_from_directory(os.path.join(args.data, "train"), class_mode="binary",
                                           batch_size=64, target_size=(224, 224), seed=args.seed)
    test_it = datagen.flow_from_directory(os.path.join(args.data, "test"), class_mode="binary",
                                          batch_size=64, target_size=(224, 224), shuffle=False)
    start = time.perf_counter()
    history = model.fit(train_it, steps_per_epoch=len(train_it), validation_data=test_it,
                        validation_steps=len(test_it), epochs=args.epochs, verbose=2)
    fit_seconds = time.perf_counter() - start
    val_accuracy = history.history["val_accuracy"][-1]
    print(f"peer,keras_transfer,fit_{args.epochs}_epochs,seconds,{fit_seconds:.1f}")
    print(f"peer,keras_transfer,last_epoch,val_accuracy,{val_accuracy:.4f}")
    print(f"Keras {keras.__version__} (TensorFlow {tf.__version__}), {args.threads} threads: "
          f"{args.epochs} epochs in {fit_seconds:.1f} s, test accuracy {val_accuracy:.4f}")


if __name__ == "__main__":
    main()
