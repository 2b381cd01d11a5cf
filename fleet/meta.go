package fleet

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/fwaudit/fwaudit/extract"
)

// tplinkModels names TP-Link products by the model half of the header's
// hardware id (OpenWrt's mktplinkfw.c HWID_* constants); the other half is
// the hardware version, written in hex digits that read as decimal
// (0x0010 is v10).
var tplinkModels = map[uint32]string{
	0x0703: "TL-WR703N", 0x0720: "TL-WR720N", 0x0740: "TL-WR740N", 0x0741: "TL-WR741ND",
	0x0743: "TL-WR743ND", 0x0841: "TL-WR841N", 0x0842: "TL-WR842ND", 0x0940: "TL-WR940N",
	0x0941: "TL-WR941ND", 0x1043: "TL-WR1043ND", 0x2543: "TL-WR2543ND", 0x3020: "TL-MR3020",
	0x3040: "TL-MR3040", 0x3220: "TL-MR3220", 0x3420: "TL-MR3420", 0x4300: "TL-WDR4300",
	0x3600: "TL-WDR3600", 0x7500: "Archer C7", 0x0810: "TL-WR810N", 0x0902: "TL-WA901ND",
}

// knownVendors are vendor names recognised in file names.
var knownVendors = []struct{ token, name string }{
	{"tplink", "TP-Link"}, {"tp-link", "TP-Link"}, {"zyxel", "ZyXEL"}, {"netgear", "NETGEAR"},
	{"dlink", "D-Link"}, {"d-link", "D-Link"}, {"asus", "ASUS"}, {"linksys", "Linksys"},
	{"avm", "AVM"}, {"fritz", "AVM"}, {"draytek", "DrayTek"}, {"ubnt", "Ubiquiti"},
	{"ubiquiti", "Ubiquiti"}, {"mikrotik", "MikroTik"}, {"openwrt", "OpenWrt"}, {"tenda", "Tenda"},
	{"huawei", "Huawei"}, {"xiaomi", "Xiaomi"}, {"trendnet", "TRENDnet"}, {"belkin", "Belkin"},
	{"hikvision", "Hikvision"}, {"dahua", "Dahua"}, {"buffalo", "Buffalo"}, {"arcadyan", "Arcadyan"},
	{"maxlinear", "MaxLinear"}, {"broadcom", "Broadcom"}, {"dji", "DJI"}, {"xerox", "Xerox"},
}

var (
	dottedRe  = regexp.MustCompile(`(?:^|[^0-9.])(\d{1,4}(?:\.\d{1,4}){1,3})(?:[^0-9.]|\.[a-zA-Z]|$)`)
	underRe   = regexp.MustCompile(`(?:^|[^0-9])(\d{1,3}(?:_\d{1,4}){2,3})(?:[^0-9]|$)`)
	numericRe = regexp.MustCompile(`^[0-9._]+$`)
	tokenRe   = regexp.MustCompile(`[a-zA-Z0-9-]+`)
)

// DetectMeta guesses vendor, product and version from the image's vendor
// header (TP-Link: vendor and hardware id) and its file name.
func DetectMeta(path string) Meta {
	var m Meta
	if f, err := os.Open(path); err == nil {
		h := make([]byte, 0x200)
		n, _ := io.ReadFull(f, h)
		f.Close()
		if vendor, _, hwID, _, ok := extract.TPLinkInfo(h[:n]); ok {
			m.Vendor = "TP-Link"
			if !strings.Contains(strings.ToLower(vendor), "tp-link") && vendor != "" {
				m.Vendor = vendor
			}
			model, rev := hwID>>16, hwID&0xffff
			name, known := tplinkModels[model]
			if !known {
				name = fmt.Sprintf("hardware id %08x", hwID)
			}
			if known && rev != 0 {
				name += " v" + strings.TrimLeft(fmt.Sprintf("%x", rev), "0")
			}
			m.Product = name
		}
	}
	base := filepath.Base(path)
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	tokens := tokenRe.FindAllString(strings.ReplaceAll(stem, "_", " "), -1)
	if m.Vendor == "" {
		for _, v := range knownVendors {
			for i, t := range tokens {
				if strings.EqualFold(t, v.token) {
					m.Vendor = v.name
					if m.Product == "" && i+1 < len(tokens) && !numericRe.MatchString(tokens[i+1]) {
						m.Product = strings.ToUpper(tokens[i+1])
					}
					break
				}
			}
			if m.Vendor != "" {
				break
			}
		}
	}
	if mm := dottedRe.FindStringSubmatch(base); mm != nil {
		m.Version = mm[1]
	} else if mm := underRe.FindStringSubmatch(stem); mm != nil {
		m.Version = strings.ReplaceAll(mm[1], "_", ".")
	}
	return m
}
