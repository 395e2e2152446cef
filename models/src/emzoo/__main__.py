from emzoo.cli import main

raise SystemExit(main())
