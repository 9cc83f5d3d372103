from alueturva.app.cli import main

main()
