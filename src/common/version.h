/* version.h: warden's version, shared by the daemon and wardenctl. */
#ifndef WARDEN_VERSION_H
#define WARDEN_VERSION_H

#define WARDEN_VERSION	"0.1.0"

#endif
