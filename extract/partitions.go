package extract

import (
	"fmt"
	"io"
)

// What the partition-table formats (MBR, GPT) share: writing one
// partition's bytes as a file.

// diskWritePart writes length bytes at off as name, clipped to the blob
// (with an anomaly when the partition runs past its end).
func diskWritePart(r io.ReaderAt, size int64, w *Writer, name string, off, length int64) error {
	if off >= size {
		w.Anomaly(AnomalyMalformed, name, fmt.Sprintf("partition at byte %d starts beyond the image (%d bytes)", off, size))
		return nil
	}
	if off+length > size || off+length < off {
		w.Anomaly(AnomalyMalformed, name, fmt.Sprintf("partition of %d bytes at %d runs past the image end; truncated", length, off))
		length = size - off
	}
	_, err := w.WriteFile(name, 0o644, io.NewSectionReader(r, off, length))
	return err
}
