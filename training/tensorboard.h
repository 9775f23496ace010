// TensorBoard's event files, written by hand (no TensorFlow, no protobuf library), so that
// `tensorboard --logdir runs/` shows a run's curves.
//
// A file is a sequence of TFRecords:
//   uint64 length | uint32 masked_crc32c(length) | data[length] | uint32 masked_crc32c(data)
// (little-endian; CRC-32C, Castagnoli, masked as ((crc >> 15) | (crc << 17)) + 0xa282ead8), each
// data an `Event` protocol buffer (tensorflow/core/util/event.proto):
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
// The first event says file_version "brain.Event:2". The trainer writes "epoch/loss",
// "epoch/accuracy", "epoch/val_loss", "epoch/val_accuracy" at step = epoch and "batch/loss" (the
// step's own batch loss) at step = the global step, one file per train() call (a resumed run adds
// a file; TensorBoard reads them all).
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

namespace catdog {

uint32_t crc32c(const void* data, size_t bytes);
uint32_t masked_crc32c(const void* data, size_t bytes);
// One Event holding one scalar, serialised (the TFRecord's data).
std::string scalar_event(double wall_time, int64_t step, const std::string& tag, float value);
// data framed as a TFRecord.
std::string tfrecord(const std::string& data);

class EventWriter {
 public:
  // Creates DIR/events.out.tfevents.<unix seconds>.<host>.<pid> and writes the version event.
  explicit EventWriter(const std::string& dir);
  void scalar(const std::string& tag, int64_t step, double value);  // flushed at once
  const std::string& path() const { return path_; }

 private:
  void write(const std::string& data);
  std::string path_;
  std::ofstream out_;
};

}  // namespace catdog
